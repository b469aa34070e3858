package model

import ()

// Injector is Dapr's sidecar injector, from its Deployment.
type Injector struct {
	Obj            *Object
	DropAll        bool
	RunAsNonRoot   bool
	ReadOnlyRootFS bool
}

func newInjector(w *Workload) *Injector {
	if w.Obj.Kind() != "Deployment" {
		return nil
	}
	for _, c := range w.Containers {
		_, d := c.Env["SIDECAR_DROP_ALL_CAPABILITIES"]
		_, r := c.Env["SIDECAR_RUN_AS_NON_ROOT"]
		if d || r || w.Obj.Name() == "dapr-sidecar-injector" && c.Name == "dapr-sidecar-injector" {
			return &Injector{
				Obj:            w.Obj,
				DropAll:        IsTruthy(c.Env["SIDECAR_DROP_ALL_CAPABILITIES"].Value),
				RunAsNonRoot:   truthyDefaultTrue(c.Env, "SIDECAR_RUN_AS_NON_ROOT"),
				ReadOnlyRootFS: truthyDefaultTrue(c.Env, "SIDECAR_READ_ONLY_ROOT_FILESYSTEM"),
			}
		}
	}
	return nil
}

func truthyDefaultTrue(env map[string]EnvVar, key string) bool {
	v, ok := env[key]
	if !ok || v.Value == "" {
		return true
	}
	return IsTruthy(v.Value)
}
