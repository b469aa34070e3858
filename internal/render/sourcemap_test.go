package render

import (
	"strings"
	"testing"
)

func TestTemplateLineMap(t *testing.T) {
	template := strings.Join([]string{
		`{{- if .Values.audit.deploy }}`,            // 1
		`apiVersion: apps/v1`,                       // 2
		`kind: Deployment`,                          // 3
		`metadata:`,                                 // 4
		`  name: {{ .Values.audit.name }}`,          // 5
		`  labels:`,                                 // 6
		`    {{- include "labels" . | nindent 4 }}`, // 7
		`spec:`,                   // 8
		`  template:`,             // 9
		`    spec:`,               // 10
		`      containers:`,       // 11
		`        - name: manager`, // 12
		`          args:`,         // 13
		`            - --audit-interval={{ .Values.auditInterval }}`,      // 14
		`            {{- range .Values.extraArgs }}`,                      // 15
		`            - {{ . | quote }}`,                                   // 16
		`            {{- end }}`,                                          // 17
		`            - --audit-connection={{ .Values.audit.connection }}`, // 18
		`{{- end }}`, // 19
	}, "\n")
	rendered := strings.Join([]string{
		`apiVersion: apps/v1`,               // 1 <- 2
		`kind: Deployment`,                  // 2 <- 3
		`metadata:`,                         // 3 <- 4
		`  name: gatekeeper-audit`,          // 4 <- 5
		`  labels:`,                         // 5 <- 6
		`    app.kubernetes.io/name: x`,     // 6 <- 7 (include)
		`    app.kubernetes.io/part-of: y`,  // 7 <- 7
		`spec:`,                             // 8 <- 8
		`  template:`,                       // 9 <- 9
		`    spec:`,                         // 10 <- 10
		`      containers:`,                 // 11 <- 11
		`        - name: manager`,           // 12 <- 12
		`          args:`,                   // 13 <- 13
		`            - --audit-interval=60`, // 14 <- 14
		`            - "--log-level=DEBUG"`, // 15 <- 16
		`            - "--foo"`,             // 16 <- 16
		`            - --audit-connection=audit-connection`, // 17 <- 18
	}, "\n")
	want := []int{0, 2, 3, 4, 5, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 16, 16, 18}
	got := templateLineMap(template, rendered)
	if len(got) != len(want) {
		t.Fatalf("len = %d, want %d: %v", len(got), len(want), got)
	}
	for i := 1; i < len(want); i++ {
		if got[i] != want[i] {
			t.Errorf("rendered line %d %q: template line %d, want %d", i, strings.Split(rendered, "\n")[i-1], got[i], want[i])
		}
	}
}

func TestLinePattern(t *testing.T) {
	tests := []struct {
		line, rendered string
		match, action  bool
	}{
		{`  name: {{ .Values.x }}`, `  name: foo`, true, false},
		{`  name: {{ .Values.x }}`, `  other: foo`, false, false},
		{`{{- toYaml . | nindent 8 }}`, `anything`, false, true},
		{`- --a={{ .A }} --b={{ .B }}`, `- --a=1 --b=2`, true, false},
		{``, ``, false, false},
	}
	for _, tc := range tests {
		re, action := linePattern(tc.line)
		if action != tc.action {
			t.Errorf("linePattern(%q) action = %v", tc.line, action)
		}
		if got := re != nil && re.MatchString(tc.rendered); got != tc.match {
			t.Errorf("linePattern(%q) matches %q = %v, want %v", tc.line, tc.rendered, got, tc.match)
		}
	}
}
