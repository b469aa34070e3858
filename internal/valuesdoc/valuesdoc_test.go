package valuesdoc

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Value
		wantErr string
	}{
		{
			name: "scalars, sections and whole maps",
			in: `# file header

# The version.
version: v1
image:
  # Repository.
  repository: x/y
  # Tag; empty
  # means latest.
  tag: ""
# Labels | pipes.
labels: {}
# Resources.
resources:
  limits:
    memory: 1Gi
# Count.
n: 3
`,
			want: []Value{
				{Key: "version", Default: "v1", Description: "The version.", Line: 4},
				{Key: "image.repository", Default: "x/y", Description: "Repository.", Line: 7},
				{Key: "image.tag", Default: `""`, Description: "Tag; empty means latest.", Line: 10},
				{Key: "labels", Default: "{}", Description: "Labels | pipes.", Line: 12},
				{Key: "resources", Default: `{"limits":{"memory":"1Gi"}}`, Description: "Resources.", Line: 14},
				{Key: "n", Default: "3", Description: "Count.", Line: 18},
			},
		},
		{name: "missing comment", in: "a:\n  b: 1\n# C.\nc: 2\n", wantErr: "a.b (line 2)"},
		{name: "not a map", in: "- a\n", wantErr: "not a map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestUpdateReadme(t *testing.T) {
	readme := "# T\n\n" + BeginMarker + "\nold\n" + EndMarker + "\ntail\n"
	got, err := UpdateReadme([]byte(readme), []byte("# A | b.\na: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "# T\n\n" + BeginMarker + "\n| Key | Default | Description |\n| --- | --- | --- |\n| `a` | `1` | A \\| b. |\n" + EndMarker + "\ntail\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := UpdateReadme([]byte("no markers"), []byte("# A.\na: 1\n")); err == nil {
		t.Error("no error without markers")
	}
}
