{{/*
A hook Job of the chart: (dict "root" $ "name" "<suffix>" "weight" "<n>" "command" (list …)
"env" "<YAML env list>" "mounts" "<YAML>" "volumes" "<YAML>" "comment" "<text>").
*/}}
{{- define "offline-push.hookJob" -}}
{{- $root := .root }}
{{- $labels := dict "root" $root "component" .name }}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "offline-push.fullname" $root }}-{{ .name }}
  labels:
    {{- include "offline-push.labels" $labels | nindent 4 }}
  annotations:
    # {{ .comment }}
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: {{ .weight | quote }}
    helm.sh/hook-delete-policy: {{ $root.Values.jobs.deletePolicy }}
spec:
  backoffLimit: {{ $root.Values.jobs.backoffLimit }}
  activeDeadlineSeconds: {{ $root.Values.jobs.activeDeadlineSeconds }}
  template:
    metadata:
      labels:
        {{- include "offline-push.labels" $labels | nindent 8 }}
    spec:
      restartPolicy: Never
      {{- with $root.Values.jobs.serviceAccountName }}
      serviceAccountName: {{ . }}
      {{- end }}
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- with $root.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .name }}
          image: {{ include "offline-push.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: {{ toJson .command }}
          env:
            {{- .env | nindent 12 }}
          resources:
            {{- toYaml $root.Values.jobs.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
            {{- with .mounts }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $root.Values.tmpVolume.sizeLimit }}
        {{- with .volumes }}
        {{- . | nindent 8 }}
        {{- end }}
{{- end }}
