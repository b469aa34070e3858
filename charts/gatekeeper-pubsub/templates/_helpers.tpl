{{/*
Chart name, overridable with nameOverride.
*/}}
{{- define "gatekeeper-pubsub.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Chart label value: name-version.
*/}}
{{- define "gatekeeper-pubsub.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels of every object. Call with (dict "ctx" $ "component" "audit").
*/}}
{{- define "gatekeeper-pubsub.labels" -}}
{{- $ctx := .ctx -}}
helm.sh/chart: {{ include "gatekeeper-pubsub.chart" $ctx }}
app.kubernetes.io/managed-by: {{ $ctx.Release.Service }}
app.kubernetes.io/part-of: gatekeeper
app.kubernetes.io/version: {{ include "gatekeeper-pubsub.gatekeeperVersion" $ctx | quote }}
{{ include "gatekeeper-pubsub.selectorLabels" . }}
{{- with $ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Selector labels. Call with (dict "ctx" $ "component" "audit").
*/}}
{{- define "gatekeeper-pubsub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gatekeeper-pubsub.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}

{{/*
The Gatekeeper version, with a leading "v".
*/}}
{{- define "gatekeeper-pubsub.gatekeeperVersion" -}}
{{- printf "v%s" (trimPrefix "v" .Values.gatekeeperVersion) -}}
{{- end -}}

{{/*
How this Gatekeeper version is told to publish violations:
  "pubsub"    v3.13-v3.18: --enable-pub-sub and a ConfigMap with provider
  "export"    v3.19:       --enable-violation-export and a ConfigMap with driver
  "connection" v3.20+:     --enable-violation-export and a Connection resource
*/}}
{{- define "gatekeeper-pubsub.exportForm" -}}
{{- $v := include "gatekeeper-pubsub.gatekeeperVersion" . -}}
{{- if semverCompare ">=3.20.0-0" $v -}}
connection
{{- else if semverCompare ">=3.19.0-0" $v -}}
export
{{- else -}}
pubsub
{{- end -}}
{{- end -}}

{{/*
The Gatekeeper image reference: [registry/]repository:tag[@digest].
*/}}
{{- define "gatekeeper-pubsub.image" -}}
{{- $i := .Values.image -}}
{{- $ref := printf "%s:%s" $i.repository ($i.release | default (include "gatekeeper-pubsub.gatekeeperVersion" .)) -}}
{{- with $i.registry }}{{ $ref = printf "%s/%s" . $ref }}{{ end -}}
{{- with $i.digest }}{{ $ref = printf "%s@%s" $ref . }}{{ end -}}
{{- $ref -}}
{{- end -}}

{{/*
The audit pod's annotations: the Dapr sidecar annotations (when publishing)
overlaid with auditPodAnnotations, rendered as YAML.
*/}}
{{- define "gatekeeper-pubsub.auditPodAnnotations" -}}
{{- $dapr := dict -}}
{{- if .Values.audit.enablePubsub -}}
{{- $dapr = dict "dapr.io/enabled" "true" "dapr.io/app-id" "audit" "dapr.io/metrics-port" "9999" "dapr.io/sidecar-seccomp-profile-type" "RuntimeDefault" -}}
{{- $dapr = merge $dapr (include "gatekeeper-pubsub.sidecarResources" . | fromJson) -}}
{{- end -}}
{{- include "gatekeeper-pubsub.overlayAnnotations" (list $dapr .Values.auditPodAnnotations) -}}
{{- end -}}

{{/*
The daprd sidecar's requests and limits, from dapr.sidecar.resources, as
the annotations Dapr's injector reads (dapr.io/sidecar-cpu-request,
-memory-request, -cpu-limit, -memory-limit; dapr/dapr v1.14.0
pkg/injector/annotations), rendered as JSON. Every pod the chart gives a
sidecar gets them; its pod annotations override them.
*/}}
{{- define "gatekeeper-pubsub.sidecarResources" -}}
{{- $r := (.Values.dapr.sidecar).resources | default dict -}}
{{- $out := dict -}}
{{- range $kind := list "requests" "limits" -}}
{{- range $res, $q := (get $r $kind | default dict) -}}
{{- $_ := set $out (printf "dapr.io/sidecar-%s-%s" $res (trimSuffix "s" $kind)) (toString $q) -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/*
Overlay annotations: (list defaults user). A user value replaces the
default; an empty user value removes the annotation (Helm's null would
only delete the user's key and bring the default back). Rendered as YAML.
*/}}
{{- define "gatekeeper-pubsub.overlayAnnotations" -}}
{{- $out := deepCopy (index . 0) -}}
{{- range $k, $v := (index . 1 | default dict) -}}
{{- if eq (toString $v) "" -}}
{{- $_ := unset $out $k -}}
{{- else -}}
{{- $_ := set $out $k (toString $v) -}}
{{- end -}}
{{- end -}}
{{- if $out }}{{ toYaml $out }}{{ end -}}
{{- end -}}

{{/*
Whether the audit runs --operation=generate: from v3.18, only a process
with that operation creates the constraint CRDs from ConstraintTemplates
(Gatekeeper's documentation of operations, v3.18 and later; its own chart
gives it to the audit).
*/}}
{{- define "gatekeeper-pubsub.generateOperation" -}}
{{- if and (semverCompare ">=3.18.0-0" (include "gatekeeper-pubsub.gatekeeperVersion" .)) (not .Values.audit.disableGenerateOperation) -}}
true
{{- end -}}
{{- end -}}

{{/*
The audit's Dapr app-id.
*/}}
{{- define "gatekeeper-pubsub.auditAppId" -}}
{{- index (.Values.auditPodAnnotations | default dict) "dapr.io/app-id" | default "audit" | toString -}}
{{- end -}}

{{/*
Whether the audit exports to disk (audit.exportBackend=disk, publishing on):
the Connection's disk driver writes the runs to a shared emptyDir that the
pubsub-forward sidecar reads. validate.yaml allows it from v3.20.
*/}}
{{- define "gatekeeper-pubsub.diskExport" -}}
{{- if and .Values.audit.enablePubsub (eq (toString .Values.audit.exportBackend) "disk") -}}
true
{{- end -}}
{{- end -}}

{{/*
The disk export's volume, where it is mounted in the manager and the
forwarder, and the disk driver's path on it (Gatekeeper's chart uses the
same: audit.exportVolume, exportVolumeMount, exportConnection.path).
pubsub-forward keeps its checkpoint beside the path, in
/tmp/violations/.pubsub-forward, out of the driver's reach.
*/}}
{{- define "gatekeeper-pubsub.diskVolume" -}}tmp-violations{{- end -}}
{{- define "gatekeeper-pubsub.diskMount" -}}/tmp/violations{{- end -}}
{{- define "gatekeeper-pubsub.diskPath" -}}/tmp/violations/topics{{- end -}}

{{/*
The connection's driver: disk or dapr.
*/}}
{{- define "gatekeeper-pubsub.driver" -}}
{{- if include "gatekeeper-pubsub.diskExport" . }}disk{{ else }}dapr{{ end -}}
{{- end -}}

{{/*
The connection config as JSON, the same for every form: the Dapr Component
for the dapr driver, the path and the runs kept for the disk driver.
*/}}
{{- define "gatekeeper-pubsub.connectionConfig" -}}
{{- if include "gatekeeper-pubsub.diskExport" . -}}
{{- dict "path" (include "gatekeeper-pubsub.diskPath" .) "maxAuditResults" (int .Values.audit.disk.maxAuditResults) | toPrettyJson -}}
{{- else -}}
{{- include "gatekeeper-pubsub.daprConfig" . -}}
{{- end -}}
{{- end -}}

{{/*
The dapr driver's config as JSON: the Component the audit (or, exporting to
disk, pubsub-forward) publishes through.
*/}}
{{- define "gatekeeper-pubsub.daprConfig" -}}
{{- dict "component" .Values.config.component | toPrettyJson -}}
{{- end -}}

{{/*
The subscriber's channel.
*/}}
{{- define "gatekeeper-pubsub.subscriberChannel" -}}
{{- .Values.subscriber.channel | default .Values.audit.channel -}}
{{- end -}}

{{/*
A Dapr pubsub Component's spec, from component.*.
*/}}
{{- define "gatekeeper-pubsub.componentSpec" -}}
type: {{ .Values.component.type }}
version: {{ .Values.component.version }}
metadata:
{{- range .Values.component.metadata }}
  - name: {{ .name }}
    {{- if hasKey . "value" }}
    value: {{ .value | toString | quote }}
    {{- else if hasKey . "secretKeyRef" }}
    secretKeyRef:
      name: {{ .secretKeyRef.name }}
      key: {{ .secretKeyRef.key }}
    {{- else }}
    envRef: {{ .envRef }}
    {{- end }}
{{- end }}
{{- include "gatekeeper-pubsub.redisMaxLen" . }}
{{- end -}}

{{/*
The maxLenApprox item a pubsub.redis Component gets unless its metadata
sets one: Dapr's Redis pubsub XADDs every message and never deletes one, so
without it the stream grows by every violation every audit until Redis runs
out of memory. (violationsPerAudit + 2 markers) x auditsBehind entries.
*/}}
{{- define "gatekeeper-pubsub.redisMaxLen" -}}
{{- $r := .Values.component.redisStream -}}
{{- $set := false -}}
{{- range .Values.component.metadata }}{{ if eq .name "maxLenApprox" }}{{ $set = true }}{{ end }}{{ end -}}
{{- if and (eq .Values.component.type "pubsub.redis") (not $set) (gt (int $r.violationsPerAudit) 0) }}
  # component.redisStream: (violationsPerAudit + 2 markers) x auditsBehind;
  # older entries are trimmed, read or not.
  - name: maxLenApprox
    value: {{ mul (add (int $r.violationsPerAudit) 2) (int $r.auditsBehind) | toString | quote }}
{{- end }}
{{- end -}}

{{/*
The pubsub-forward container of the audit pod exporting to disk, as YAML:
it reads the runs under the disk path and sends them through the pod's
daprd, on the audit's channel, through config.component. It runs with the
manager's security context, so both are the same user on the shared
volume. The audit Deployment and the values NOTES.txt prints for
Gatekeeper's chart (audit.exportSidecar) both use it.
*/}}
{{- define "gatekeeper-pubsub.forwarderContainer" -}}
{{- $f := .Values.audit.forwarder -}}
name: pubsub-forward
image: {{ printf "%s:%s" $f.image.repository $f.image.tag }}
imagePullPolicy: {{ $f.image.pullPolicy }}
args:
  - --path={{ include "gatekeeper-pubsub.diskPath" . }}
  - --topic={{ .Values.audit.channel }}
  - --pubsub={{ .Values.config.component }}
ports:
  - name: forward-metrics
    containerPort: 9095
    protocol: TCP
# It waits up to a minute (--startup-timeout) for daprd and its Component
# before serving.
startupProbe:
  httpGet:
    path: /healthz
    port: 9095
  periodSeconds: 5
  failureThreshold: 12
livenessProbe:
  httpGet:
    path: /healthz
    port: 9095
readinessProbe:
  httpGet:
    path: /readyz
    port: 9095
{{- with $f.resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.audit.securityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumeMounts:
  - name: {{ include "gatekeeper-pubsub.diskVolume" . }}
    mountPath: {{ include "gatekeeper-pubsub.diskMount" . }}
{{- end -}}

{{/*
The violations consumer's alerts (consumer.alerts.routes): the directory
of the projected volume holding the routes file (alerts.yaml, from the
ConfigMap NAME-alerts) and each route's Secret keys (ROUTE/url,
ROUTE/token).
*/}}
{{- define "gatekeeper-pubsub.consumerAlertsDir" -}}/etc/violations/alerts{{- end -}}

{{/*
The routes file `violations serve --alerts-config` reads
(internal/consumer/alerts.Config), from consumer.alerts.routes: a plain
webhook url is written as is, a Secret's key becomes urlFile or tokenFile,
a path relative to the routes file (violations serve reads it so), which
is in the alerts directory. Empty without routes. The ConfigMap holds it
with a final newline; the pod's checksum/alerts-config annotation is the
SHA-256 of that.
*/}}
{{- define "gatekeeper-pubsub.consumerAlertsConfig" -}}
{{- with .Values.consumer.alerts.routes -}}
routes:
{{- range $r := . }}
  - name: {{ $r.name }}
    {{- with $r.match }}
    match:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with $r.webhook }}
    webhook:
      {{- if .url }}
      url: {{ .url | toJson }}
      {{- else }}
      urlFile: {{ printf "%s/url" $r.name }}
      {{- end }}
      {{- if .tokenSecret }}
      tokenFile: {{ printf "%s/token" $r.name }}
      {{- end }}
    {{- end }}
    {{- with $r.slack }}
    slack:
      urlFile: {{ printf "%s/url" $r.name }}
    {{- end }}
    {{- with $r.maxItems }}
    maxItems: {{ int . }}
    {{- end }}
    {{- with $r.timeout }}
    timeout: {{ . }}
    {{- end }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
A Go duration ("1m30s", "250ms") in milliseconds, as a float.
*/}}
{{- define "gatekeeper-pubsub.durationMs" -}}
{{- $unit := dict "ns" 0.000001 "us" 0.001 "µs" 0.001 "ms" 1.0 "s" 1000.0 "m" 60000.0 "h" 3600000.0 -}}
{{- $ms := 0.0 -}}
{{- range regexFindAll "[0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h)" (toString .) -1 -}}
{{- $n := regexFind "^[0-9]+(\\.[0-9]+)?" . | float64 -}}
{{- $ms = addf $ms (mulf $n (get $unit (regexReplaceAll "^[0-9]+(\\.[0-9]+)?" . ""))) -}}
{{- end -}}
{{- $ms -}}
{{- end -}}
