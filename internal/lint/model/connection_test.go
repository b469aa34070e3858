package model

import (
	"slices"
	"testing"
)

func TestDriversKnownBy(t *testing.T) {
	for _, tc := range []struct {
		image string
		want  []string
	}{
		{"openpolicyagent/gatekeeper:latest", []string{"dapr"}},
		{"openpolicyagent/gatekeeper:v3.13.0", []string{"dapr"}},
		{"openpolicyagent/gatekeeper:v3.19.2", []string{"dapr"}},
		{"openpolicyagent/gatekeeper:v3.20.0", []string{"dapr", "disk"}},
		{"openpolicyagent/gatekeeper:v3.23.1-beta.0", []string{"dapr", "disk"}},
	} {
		if got := DriversKnownBy(ParseImageVersion(tc.image)); !slices.Equal(got, tc.want) {
			t.Errorf("DriversKnownBy(%s) = %v, want %v", tc.image, got, tc.want)
		}
	}
}
