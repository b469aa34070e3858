{{/*
Helpers of networkpolicy.yaml (networkPolicy.*).
*/}}

{{/*
The broker's ports as a JSON list: networkPolicy.broker.ports, else the
usual ports of component.type (plain and TLS); an empty list for a type
without known ports (validate.yaml then asks for them).
*/}}
{{- define "gatekeeper-pubsub.brokerPorts" -}}
{{- $known := dict "pubsub.redis" (list 6379) "pubsub.kafka" (list 9092 9093) "pubsub.rabbitmq" (list 5672 5671) "pubsub.jetstream" (list 4222) "pubsub.mqtt3" (list 1883 8883) "pubsub.pulsar" (list 6650 6651) -}}
{{- $ports := list -}}
{{- range (.Values.networkPolicy.broker.ports | default (get $known .Values.component.type) | default list) -}}
{{- $ports = append $ports (int .) -}}
{{- end -}}
{{- toJson $ports -}}
{{- end -}}

{{/*
NetworkPolicy peers of a destination given as {cidrs, namespaceSelector,
podSelector}, as a JSON list: one ipBlock per CIDR and, when a selector is
given, one peer with the selectors given (both: the pods matching
podSelector in the namespaces matching namespaceSelector). Empty when
nothing is given: the rule then allows its ports to any address.
*/}}
{{- define "gatekeeper-pubsub.netpolPeers" -}}
{{- $peers := list -}}
{{- range .cidrs -}}
{{- $peers = append $peers (dict "ipBlock" (dict "cidr" .)) -}}
{{- end -}}
{{- if or .namespaceSelector .podSelector -}}
{{- $peer := dict -}}
{{- with .namespaceSelector }}{{ $_ := set $peer "namespaceSelector" . }}{{ end -}}
{{- with .podSelector }}{{ $_ := set $peer "podSelector" . }}{{ end -}}
{{- $peers = append $peers $peer -}}
{{- end -}}
{{- toJson $peers -}}
{{- end -}}

{{/*
One NetworkPolicy rule as a YAML list item: (dict "key" "to"|"from"
"peers" PEERS "ports" PORTS "protocols" PROTOCOLS). Without peers the rule
admits any address on its ports; each port is given once per protocol
(default TCP).
*/}}
{{- define "gatekeeper-pubsub.netpolRule" -}}
{{- $ports := list -}}
{{- range .ports -}}
{{- $port := int . -}}
{{- range ($.protocols | default (list "TCP")) -}}
{{- $ports = append $ports (dict "port" $port "protocol" .) -}}
{{- end -}}
{{- end -}}
{{- $rule := dict "ports" $ports -}}
{{- with .peers }}{{ $_ := set $rule $.key . }}{{ end -}}
{{- list $rule | toYaml -}}
{{- end -}}

{{/*
The egress rules of a workload's policy, as YAML list items: (dict "ctx" $
"dapr" BOOL "apiServer" BOOL "extra" RULES "extraName"
VALUE). DNS always; the API server
when the workload calls it; with a daprd sidecar Dapr's sentry and
operator and the broker; then the extra rules and networkPolicy.extraEgress.
*/}}
{{- define "gatekeeper-pubsub.netpolEgress" -}}
{{- $np := .ctx.Values.networkPolicy -}}
# DNS (networkPolicy.dns), over UDP and TCP.
{{ include "gatekeeper-pubsub.netpolRule" (dict "key" "to" "peers" (include "gatekeeper-pubsub.netpolPeers" $np.dns | fromJsonArray) "ports" $np.dns.ports "protocols" (list "UDP" "TCP")) }}
{{- if .apiServer }}
# The API server (networkPolicy.apiServer).
{{ include "gatekeeper-pubsub.netpolRule" (dict "key" "to" "peers" (include "gatekeeper-pubsub.netpolPeers" (dict "cidrs" $np.apiServer.cidrs) | fromJsonArray) "ports" $np.apiServer.ports) }}
{{- end }}
{{- if .dapr }}
{{- $daprNS := dict "matchLabels" (dict "kubernetes.io/metadata.name" $np.dapr.namespace) }}
# daprd: Dapr's sentry, which signs the sidecar's certificate.
{{ include "gatekeeper-pubsub.netpolRule" (dict "key" "to" "peers" (list (dict "namespaceSelector" $daprNS "podSelector" (dict "matchLabels" (dict "app" "dapr-sentry")))) "ports" (list 50001)) }}
# daprd: Dapr's operator, which sends the Components and subscriptions.
{{ include "gatekeeper-pubsub.netpolRule" (dict "key" "to" "peers" (list (dict "namespaceSelector" $daprNS "podSelector" (dict "matchLabels" (dict "app" "dapr-operator")))) "ports" (list 6500)) }}
# daprd: the broker of the Component (networkPolicy.broker).
{{ include "gatekeeper-pubsub.netpolRule" (dict "key" "to" "peers" (include "gatekeeper-pubsub.netpolPeers" $np.broker | fromJsonArray) "ports" (include "gatekeeper-pubsub.brokerPorts" .ctx | fromJsonArray)) }}
{{- end }}
{{- with .extra }}
# {{ $.extraName }}.
{{ toYaml . }}
{{- end }}
{{- with $np.extraEgress }}
# networkPolicy.extraEgress.
{{ toYaml . }}
{{- end }}
{{- end -}}
