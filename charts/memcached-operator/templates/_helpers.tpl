{{/* The name of every object: the release name, or RELEASE-memcached-operator. */}}
{{- define "memcached-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The pod selector: never changes over a release's life. */}}
{{- define "memcached-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
Labels of the hook's objects. Deliberately the same as metacontroller/'s
(no helm.sh/chart or managed-by), so both installs give the same objects.
*/}}
{{- define "memcached-operator.labels" -}}
{{ include "memcached-operator.selectorLabels" . }}
app.kubernetes.io/component: hook
{{- end -}}

{{/* The hook's base URL, as Metacontroller calls it. */}}
{{- define "memcached-operator.hookURL" -}}
http://{{ include "memcached-operator.fullname" . }}.{{ .Release.Namespace }}.svc
{{- end -}}
