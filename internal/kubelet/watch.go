package kubelet

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// resync is how often every pod is reconciled again besides the watch's
// events: the informers re-deliver the pods they hold, and the pods being
// run are looked at again (robustness: a missed event costs at most this).
const resync = 30 * time.Second

// watcher is the pods' informers, one shared informer factory per
// namespace (a factory filters to one namespace).
type watcher struct {
	factories []informers.SharedInformerFactory
	synced    []cache.InformerSynced
}

// newWatcher sets up the informers of the pods in k's namespaces; their
// events put the pod's namespace/name on k's work queue.
func (k *Kubelet) newWatcher(ctx context.Context) (*watcher, error) {
	k.queue = workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[string]{Name: "kubelet-standin-pods"})
	k.listers = map[string]corelisters.PodNamespaceLister{}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    k.enqueue,
		UpdateFunc: func(_, obj any) { k.enqueue(obj) },
		DeleteFunc: k.enqueue,
	}
	w := &watcher{}
	for _, ns := range k.opts.Namespaces {
		if _, dup := k.listers[ns]; dup {
			continue
		}
		f := informers.NewSharedInformerFactoryWithOptions(k.client, resync, informers.WithNamespace(ns))
		pods := f.Core().V1().Pods()
		if _, err := pods.Informer().AddEventHandler(handler); err != nil {
			return nil, fmt.Errorf("watching pods in %s: %w", ns, err)
		}
		k.listers[ns] = pods.Lister().Pods(ns)
		w.factories = append(w.factories, f)
		w.synced = append(w.synced, pods.Informer().HasSynced)
	}
	for _, f := range w.factories {
		f.Start(ctx.Done())
	}
	return w, nil
}

func (k *Kubelet) enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		k.event("pod event: %v", err)
		return
	}
	k.queue.Add(key)
}

// watch reconciles the pods on the work queue until ctx ends.
func (k *Kubelet) watch(ctx context.Context, w *watcher) {
	defer close(k.done)
	defer func() {
		for _, f := range w.factories {
			f.Shutdown()
		}
	}()
	go func() {
		<-ctx.Done()
		k.queue.ShutDown()
	}()
	go k.sweep(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), w.synced...) {
		return
	}
	for {
		key, shutdown := k.queue.Get()
		if shutdown {
			return
		}
		if ctx.Err() == nil {
			k.reconcile(ctx, key)
		}
		k.queue.Done(key)
	}
}

// sweep puts the pods being run on the queue every resync period, so that
// a pod whose deletion was missed is still stopped.
func (k *Kubelet) sweep(ctx context.Context) {
	t := time.NewTicker(resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		k.mu.Lock()
		keys := make([]string, 0, len(k.pods))
		for _, p := range k.pods {
			keys = append(keys, p.obj.Namespace+"/"+p.obj.Name)
		}
		k.mu.Unlock()
		for _, key := range keys {
			k.queue.Add(key)
		}
	}
}

// reconcile starts the pod namespace/name (key) if it appeared and stops
// the pod run under that name if it is gone (or replaced by a new one).
// A pod being deleted (a deletion timestamp) is not started but keeps
// running until it is gone.
func (k *Kubelet) reconcile(ctx context.Context, key string) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		k.event("pod %s: %v", key, err)
		return
	}
	var obj *corev1.Pod
	if lister := k.listers[ns]; lister != nil {
		obj, err = lister.Get(name)
		if err != nil && !apierrors.IsNotFound(err) {
			k.event("pod %s: %v", key, err)
			return
		}
		if err != nil {
			obj = nil
		}
	}
	k.mu.Lock()
	var gone []*pod
	running := false
	for uid, p := range k.pods {
		if p.obj.Namespace != ns || p.obj.Name != name {
			continue
		}
		if obj != nil && uid == obj.UID && !p.deleted() {
			running = true
			continue
		}
		gone = append(gone, p)
		delete(k.pods, uid)
	}
	skipped := obj != nil && k.skipped[obj.UID]
	k.mu.Unlock()
	for _, p := range gone {
		k.event("pod %s/%s deleted: stopping it", p.obj.Namespace, p.obj.Name)
		p.stop()
	}
	if obj == nil || obj.DeletionTimestamp != nil || running || skipped {
		return
	}
	if missing := k.unknownImages(obj); len(missing) > 0 {
		k.mu.Lock()
		k.skipped[obj.UID] = true
		k.mu.Unlock()
		k.event("pod %s/%s not run: no binary for image %s", obj.Namespace, obj.Name, strings.Join(missing, ", "))
		return
	}
	p := newPod(k, obj.DeepCopy())
	k.mu.Lock()
	k.pods[obj.UID] = p
	k.mu.Unlock()
	k.event("pod %s/%s: running (containers %s)", obj.Namespace, obj.Name, strings.Join(containerNames(obj), ", "))
	go p.run(ctx)
}
