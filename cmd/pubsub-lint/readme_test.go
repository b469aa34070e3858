package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
)

// TestREADMECommands runs every pubsub-lint command README.md shows, from
// the repository root as the README's paths are written: each line of a
// fenced code block that starts with "pubsub-lint " (a trailing "\"
// continues it on the next line), and each inline code span that does.
// Each must exit 0 or 1: never 2 (usage or input error).
//
// The command line is split as a shell would, for what the README uses:
// words, '...' and "..." quotes, "# comment" to the end of the line,
// "> file" (stdout is kept in memory; json and sarif must parse) and
// "< file" (standard input). Pipes, ";", "&&", "$(...)" and backquotes
// fail the test: run through run(), there is no shell.
//
// Placeholders: paths in the README that stand for the reader's own files
// are mapped to files the test writes, all holding the quick start in Gatekeeper's pubsub documentation
// (test/lint/testdata/quickstart, which has no error: only redis-no-tls
// warnings):
//
//	manifests/, manifests  a copy of the quick-start directory
//	rendered.yaml          the quick-start files in one YAML stream
//	~/.kube/config         a kubeconfig (context "prod") of a real
//	                       kube-apiserver started for the test (envtest,
//	                       bin/kube-apiserver from make tools); the live
//	                       mode against the whole setup is test/cluster's
//
// Every other path must exist in the repository.
func TestREADMECommands(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme := readFile(t, filepath.Join(root, "README.md"))
	cmds := readmeCommands(readme)
	if len(cmds) < 5 {
		t.Fatalf("found only %d pubsub-lint commands in README.md: %q", len(cmds), cmds)
	}
	placeholders := writePlaceholders(t, filepath.Join(root, "test", "lint", "testdata", "quickstart"))
	if strings.Contains(strings.Join(cmds, "\n"), "~/.kube/config") {
		placeholders["~/.kube/config"] = liveKubeconfig(t, "prod")
	}
	t.Chdir(root)
	for _, c := range cmds {
		t.Run(c, func(t *testing.T) {
			sc, err := parseCommand(c)
			if err != nil {
				t.Fatalf("%q: %v", c, err)
			}
			if len(sc.args) == 0 || sc.args[0] != "pubsub-lint" {
				t.Fatalf("%q: not a pubsub-lint command", c)
			}
			args := sc.args[1:]
			for i, a := range args {
				if p, ok := placeholders[a]; ok {
					args[i] = p
				}
			}
			var stdin io.Reader = strings.NewReader("")
			if sc.stdin != "" {
				p := sc.stdin
				if m, ok := placeholders[p]; ok {
					p = m
				}
				f, err := os.Open(p)
				if err != nil {
					t.Fatalf("%q: < %v", c, err)
				}
				defer f.Close()
				stdin = f
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), args, stdin, &out, &errb)
			if code != 0 && code != 1 {
				t.Fatalf("%q (run with %q): exit %d\nstdout:\n%s\nstderr:\n%s", c, args, code, out.String(), errb.String())
			}
			if errb.Len() > 0 {
				t.Errorf("%q: stderr:\n%s", c, errb.String())
			}
			if sc.stdout != "" && (strings.Contains(c, "--format sarif") || strings.Contains(c, "--format json")) && !json.Valid(out.Bytes()) {
				t.Errorf("%q: > %s is not JSON:\n%s", c, sc.stdout, out.String())
			}
		})
	}
}

// writePlaceholders writes the files the README's placeholders stand for.
func writePlaceholders(t *testing.T, quickstart string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	manifests := filepath.Join(dir, "manifests")
	if err := os.Mkdir(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(quickstart)
	if err != nil {
		t.Fatal(err)
	}
	var stream []string
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".yaml" {
			continue
		}
		content := readFile(t, filepath.Join(quickstart, e.Name()))
		if err := os.WriteFile(filepath.Join(manifests, e.Name()), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		stream = append(stream, content)
	}
	rendered := filepath.Join(dir, "rendered.yaml")
	if err := os.WriteFile(rendered, []byte(strings.Join(stream, "\n---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"manifests/": manifests, "manifests": manifests, "rendered.yaml": rendered}
}

var (
	fenceRE  = regexp.MustCompile("(?s)(?m)^```[a-z]*\n(.*?)^```")
	inlineRE = regexp.MustCompile("`(pubsub-lint [^`]+)`")
)

// readmeCommands returns the pubsub-lint command lines of a README, in
// order, each once.
func readmeCommands(readme string) []string {
	var cmds []string
	seen := map[string]bool{}
	add := func(c string) {
		if c = strings.TrimSpace(c); !seen[c] {
			seen[c] = true
			cmds = append(cmds, c)
		}
	}
	for _, m := range fenceRE.FindAllStringSubmatch(readme, -1) {
		block := strings.ReplaceAll(m[1], "\\\n", " ")
		for _, l := range strings.Split(block, "\n") {
			l = strings.TrimPrefix(strings.TrimSpace(l), "$ ")
			if strings.HasPrefix(l, "pubsub-lint ") {
				add(l)
			}
		}
	}
	// Outside code blocks, inline spans such as `pubsub-lint rules`.
	for _, m := range inlineRE.FindAllStringSubmatch(fenceRE.ReplaceAllString(readme, ""), -1) {
		add(m[1])
	}
	return cmds
}

// shellCommand is one command line: its words and redirections.
type shellCommand struct {
	args          []string
	stdin, stdout string
}

// parseCommand splits a command line the way sh would, for the subset
// README commands use (see TestREADMECommands).
func parseCommand(line string) (shellCommand, error) {
	var sc shellCommand
	var words []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord:
			i = len(line)
		case c == '\'' || c == '"':
			j := strings.IndexByte(line[i+1:], c)
			if j < 0 {
				return sc, fmt.Errorf("unterminated %c", c)
			}
			cur.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == '|' || c == ';' || c == '&' || c == '`' || (c == '$' && i+1 < len(line) && line[i+1] == '('):
			return sc, fmt.Errorf("unsupported shell syntax %q: the test runs one command without a shell", line[i:])
		case c == '<' || c == '>':
			flush()
			words = append(words, string(c))
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	for i := 0; i < len(words); i++ {
		switch words[i] {
		case "<", ">":
			if i+1 >= len(words) || words[i+1] == "<" || words[i+1] == ">" {
				return sc, fmt.Errorf("%s without a file", words[i])
			}
			if words[i] == "<" {
				sc.stdin = words[i+1]
			} else {
				sc.stdout = words[i+1]
			}
			i++
		default:
			sc.args = append(sc.args, words[i])
		}
	}
	return sc, nil
}

func TestParseCommand(t *testing.T) {
	for _, tt := range []struct {
		line          string
		args          []string
		stdin, stdout string
		err           string
	}{
		{"pubsub-lint manifests/   # plain YAML", []string{"pubsub-lint", "manifests/"}, "", "", ""},
		{"pubsub-lint dir --format sarif > out.sarif", []string{"pubsub-lint", "dir", "--format", "sarif"}, "", "out.sarif", ""},
		{"pubsub-lint - <in.yaml", []string{"pubsub-lint", "-"}, "in.yaml", "", ""},
		{`pubsub-lint c --set-string 'a.b\.c=x y' --set "k=#v"`, []string{"pubsub-lint", "c", "--set-string", `a.b\.c=x y`, "--set", "k=#v"}, "", "", ""},
		{`pubsub-lint a\ b`, []string{"pubsub-lint", "a b"}, "", "", ""},
		{"pubsub-lint a#b", []string{"pubsub-lint", "a#b"}, "", "", ""},
		{"helm template c | pubsub-lint -", nil, "", "", "unsupported"},
		{"pubsub-lint $(ls)", nil, "", "", "unsupported"},
		{"pubsub-lint a && echo", nil, "", "", "unsupported"},
		{"pubsub-lint 'a", nil, "", "", "unterminated"},
		{"pubsub-lint a >", nil, "", "", "without a file"},
	} {
		t.Run(tt.line, func(t *testing.T) {
			sc, err := parseCommand(tt.line)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || strings.Join(sc.args, "|") != strings.Join(tt.args, "|") || sc.stdin != tt.stdin || sc.stdout != tt.stdout {
				t.Errorf("got %q < %q > %q, %v; want %q < %q > %q", sc.args, sc.stdin, sc.stdout, err, tt.args, tt.stdin, tt.stdout)
			}
		})
	}
}

func TestReadmeCommandsExtracted(t *testing.T) {
	md := "# x\n\n```sh\npubsub-lint a/   # c\n$ pubsub-lint b \\\n  --set x=y\nhelm install\n```\n\nSee `pubsub-lint rules` and `pubsub-lint`, `--fail-on`.\n\n```\npubsub-lint a/   # c\n```\n"
	got := readmeCommands(md)
	want := []string{"pubsub-lint a/   # c", "pubsub-lint b    --set x=y", "pubsub-lint rules"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// liveKubeconfig starts etcd and kube-apiserver for t and writes a
// kubeconfig whose context is named context.
func liveKubeconfig(t *testing.T, context string) string {
	t.Helper()
	k, err := procs.StartKube(t.Context(), procs.KubeOptions{NoControllerManager: true})
	if err != nil {
		t.Fatalf("starting kube-apiserver for the README's live command: %v", err)
	}
	t.Cleanup(k.Stop)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = &clientcmdapi.Cluster{Server: k.Config.Host, CertificateAuthorityData: k.Config.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: k.Config.CertData, ClientKeyData: k.Config.KeyData, Token: k.Config.BearerToken}
	kc.Contexts[context] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "admin"}
	kc.CurrentContext = context
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}
