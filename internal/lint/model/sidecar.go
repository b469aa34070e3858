package model

import (
	"regexp"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// SidecarName is the name of the container Dapr's injector adds.
const SidecarName = "daprd"

// sslCertDir matches SSL_CERT_DIR as a key of the dapr.io/env annotation
// ("KEY=value,KEY2=value2").
var sslCertDir = regexp.MustCompile(`(^|,)\s*SSL_CERT_DIR=`)

// PredictSidecar returns the daprd container that Dapr v1.14's injector
// adds to a pod with these annotations, as far as PodSecurity looks at it:
// the security context and the ports. It follows
// pkg/injector/patcher/sidecar_container.go: allowPrivilegeEscalation is
// always false; runAsNonRoot and readOnlyRootFilesystem come from the
// injector's SIDECAR_RUN_AS_NON_ROOT and SIDECAR_READ_ONLY_ROOT_FILESYSTEM
// (default true) but are forced to false when dapr.io/env sets SSL_CERT_DIR;
// the seccomp profile type is dapr.io/sidecar-seccomp-profile-type when set;
// capabilities drop ALL only with SIDECAR_DROP_ALL_CAPABILITIES.
func (s *Setup) PredictSidecar(ann map[string]string) corev1.Container {
	runAsNonRoot, readOnly := true, true
	if s.Injector != nil {
		runAsNonRoot, readOnly = s.Injector.RunAsNonRoot, s.Injector.ReadOnlyRootFS
	}
	f := false
	sc := &corev1.SecurityContext{AllowPrivilegeEscalation: &f}
	if t := ann[AnnSeccompProfile]; t != "" {
		sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileType(t)}
	}
	if s.DropAllCapabilities() {
		sc.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
	}
	if sslCertDir.MatchString(ann["dapr.io/env"]) {
		runAsNonRoot, readOnly = false, false
		admin := "ContainerAdministrator"
		sc.WindowsOptions = &corev1.WindowsSecurityContextOptions{RunAsUserName: &admin}
	}
	sc.RunAsNonRoot, sc.ReadOnlyRootFilesystem = &runAsNonRoot, &readOnly
	metrics := int32(9090)
	if p, err := strconv.ParseInt(ann["dapr.io/metrics-port"], 10, 32); err == nil {
		metrics = int32(p)
	}
	return corev1.Container{
		Name:            SidecarName,
		Image:           "daprd",
		SecurityContext: sc,
		Ports: []corev1.ContainerPort{
			{Name: "dapr-http", ContainerPort: 3500},
			{Name: "dapr-grpc", ContainerPort: 50001},
			{Name: "dapr-internal", ContainerPort: 50002},
			{Name: "dapr-metrics", ContainerPort: metrics},
		},
	}
}

// AnnSeccompProfile is the pod annotation that sets the daprd sidecar's
// seccomp profile type.
const AnnSeccompProfile = "dapr.io/sidecar-seccomp-profile-type"
