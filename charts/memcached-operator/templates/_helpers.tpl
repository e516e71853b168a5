{{/*
The name of every object: the release name, or RELEASE-memcached-operator (nameOverride replaces the
chart's name there, as in most charts; the labels keep it, since the pod selector cannot change).
*/}}
{{- define "memcached-operator.fullname" -}}
{{- $name := "" -}}
{{- $chart := default .Chart.Name .Values.nameOverride -}}
{{- if .Values.fullnameOverride -}}
{{- $name = .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains $chart .Release.Name -}}
{{- $name = .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name = printf "%s-%s" .Release.Name $chart | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- /* The hook's Service takes it: a DNS-1035 label, so a release named 1op needs fullnameOverride. */ -}}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $name) -}}
{{- fail (printf "the objects' name %q is not a DNS-1035 label (lowercase letters, digits and '-', a letter first, a letter or digit last): set fullnameOverride" $name) -}}
{{- end -}}
{{- $name -}}
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

{{/* The hook Service, as the CompositeController names it: Metacontroller calls http://NAME.NAMESPACE:80/PATH. */}}
{{- define "memcached-operator.hookService" -}}
name: {{ include "memcached-operator.fullname" . }}
namespace: {{ .Release.Namespace }}
port: 80
{{- end -}}
