{{- define "mini.name" -}}{{ .Values.name }}{{- end -}}
