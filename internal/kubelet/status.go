package kubelet

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

func (p *pod) statuses() []corev1.ContainerStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []corev1.ContainerStatus
	for _, c := range p.obj.Spec.Containers {
		st := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image}
		if cc := p.containers[c.Name]; cc != nil {
			cc.mu.Lock()
			st.RestartCount = int32(cc.restarts) //nolint:gosec // G115: a stand-in's restart count stays far below 2^31
			if cc.exitCode != nil {
				st.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: int32(*cc.exitCode)} //nolint:gosec // G115: exit codes are 0-255
			} else {
				st.Ready, st.Started = true, ptr.To(true)
				st.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.Now()}
			}
			cc.mu.Unlock()
		}
		out = append(out, st)
	}
	return out
}

// setPhase records the pod's phase (and a message) in its status.
func (k *Kubelet) setPhase(ctx context.Context, obj *corev1.Pod, phase corev1.PodPhase, statuses []corev1.ContainerStatus, message string) {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := k.client.CoreV1().Pods(obj.Namespace).Get(ctx, obj.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cur.UID != obj.UID {
			return apierrors.NewNotFound(corev1.Resource("pods"), obj.Name)
		}
		cur.Status.Phase = phase
		cur.Status.Message = message
		cur.Status.HostIP, cur.Status.PodIP = "127.0.0.1", "127.0.0.1"
		if cur.Status.StartTime == nil {
			now := metav1.Now()
			cur.Status.StartTime = &now
		}
		cur.Status.ContainerStatuses = statuses
		ready := corev1.ConditionFalse
		if phase == corev1.PodRunning {
			ready = corev1.ConditionTrue
		}
		cur.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: ready, LastTransitionTime: metav1.Now()}}
		_, err = k.client.CoreV1().Pods(obj.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		k.event("pod %s/%s: updating status to %s: %v", obj.Namespace, obj.Name, phase, err)
	}
}
