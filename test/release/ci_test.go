package release_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
)

// actionYAML is the part of action.yml a runner reads.
type actionYAML struct {
	Inputs map[string]struct {
		Default  string
		Required bool
	}
	Outputs map[string]struct{ Value string }
	Runs    struct {
		Using string
		Steps []struct {
			Name, ID, If, Uses, Shell, Run string
			Env                            map[string]string
		}
	}
}

var exprRE = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// actionRun is one run of the composite action.
type actionRun struct {
	log     string
	code    int
	outputs map[string]string
}

// runAction runs action.yml as a GitHub runner runs a composite action:
// inputs with their defaults, ${{ inputs.* }} and ${{ steps.*.outputs.* }}
// substituted, each `run:` step as `bash --noprofile --norc -eo pipefail
// FILE` (the runner's bash) in the environment the runner sets
// (GITHUB_WORKSPACE, GITHUB_ACTION_PATH, RUNNER_TEMP, a GITHUB_OUTPUT file
// per step, GITHUB_PATH entries prepended to PATH for later steps), stopping
// at the first failing step. `uses:` steps cannot run here: only
// actions/setup-go is allowed, skipped (Go is installed).
func runAction(t *testing.T, inputs map[string]string, workspace, runnerTemp string, jobEnv []string) actionRun {
	t.Helper()
	root := repoRoot(t)
	var a actionYAML
	readYAML(t, filepath.Join(root, "action.yml"), &a)
	if a.Runs.Using != "composite" {
		t.Fatalf("action.yml runs.using %q, want composite", a.Runs.Using)
	}
	in := map[string]string{}
	for k, def := range a.Inputs {
		in[k] = def.Default
		if v, ok := inputs[k]; ok {
			in[k] = v
		} else if def.Required {
			t.Fatalf("input %s is required", k)
		}
	}
	for k := range inputs {
		if _, ok := a.Inputs[k]; !ok {
			t.Fatalf("action.yml has no input %s", k)
		}
	}
	stepOut := map[string]map[string]string{}
	eval := func(s string) string {
		return exprRE.ReplaceAllStringFunc(s, func(m string) string {
			e := exprRE.FindStringSubmatch(m)[1]
			switch {
			case strings.HasPrefix(e, "inputs."):
				return in[strings.TrimPrefix(e, "inputs.")]
			case strings.HasPrefix(e, "steps."):
				parts := strings.SplitN(e, ".", 4)
				if len(parts) == 4 && parts[2] == "outputs" {
					return stepOut[parts[1]][parts[3]]
				}
			case e == "github.action_path":
				return root
			}
			t.Fatalf("expression %q is not supported by this test's runner", e)
			return ""
		})
	}
	dir := t.TempDir()
	ghPath := filepath.Join(dir, "github_path")
	if err := os.WriteFile(ghPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	run := actionRun{outputs: map[string]string{}}
	for i, s := range a.Runs.Steps {
		if s.Uses != "" {
			if !strings.HasPrefix(s.Uses, "actions/setup-go@") {
				t.Fatalf("step %q uses %s, which this test cannot run", s.Name, s.Uses)
			}
			fmt.Fprintf(&log, "## skipped %q (%s): Go is installed\n", s.Name, s.Uses)
			continue
		}
		if s.Shell != "bash" {
			t.Fatalf("step %q: shell %q, want bash (composite run steps must say)", s.Name, s.Shell)
		}
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q interpolates an expression into its script: pass inputs through env", s.Name)
		}
		script := filepath.Join(dir, fmt.Sprintf("step%d.sh", i))
		if err := os.WriteFile(script, []byte(eval(s.Run)), 0o644); err != nil {
			t.Fatal(err)
		}
		ghOut := filepath.Join(dir, fmt.Sprintf("output%d", i))
		if err := os.WriteFile(ghOut, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(ghPath)
		if err != nil {
			t.Fatal(err)
		}
		var extra []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if l != "" {
				extra = append([]string{l}, extra...)
			}
		}
		env := withEnv(append(append([]string{
			"GITHUB_ACTIONS=true", "CI=true",
			"GITHUB_WORKSPACE=" + workspace, "GITHUB_ACTION_PATH=" + root, "RUNNER_TEMP=" + runnerTemp,
			"GITHUB_OUTPUT=" + ghOut, "GITHUB_PATH=" + ghPath, "GITHUB_ENV=" + filepath.Join(dir, "github_env"),
			"PATH=" + strings.Join(append(extra, os.Getenv("PATH")), string(os.PathListSeparator)),
		}, jobEnv...), envList(s.Env, eval)...)...)
		out, code := runCmd(t, workspace, env, "bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		fmt.Fprintf(&log, "## step %q: exit %d\n%s", s.Name, code, out)
		outs := map[string]string{}
		ob, err := os.ReadFile(ghOut)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(ob), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				outs[k] = v
			}
		}
		if s.ID != "" {
			stepOut[s.ID] = outs
		}
		if code != 0 {
			run.code = code
			break
		}
	}
	for k, o := range a.Outputs {
		run.outputs[k] = eval(o.Value)
	}
	run.log = log.String()
	return run
}

func envList(m map[string]string, eval func(string) string) []string {
	var l []string
	for k, v := range m {
		l = append(l, k+"="+eval(v))
	}
	return l
}

// workspace is a user's repository: broken manifests in manifests/, the
// chart in charts/gatekeeper-pubsub, values files in values/.
func workspace(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	ws := t.TempDir()
	copyFile(t, filepath.Join(root, "test", "release", "testdata", "broken", "broken.yaml"), filepath.Join(ws, "manifests", "broken.yaml"))
	copyDir(t, filepath.Join(root, "charts", "gatekeeper-pubsub"), filepath.Join(ws, "charts", "gatekeeper-pubsub"))
	copyFile(t, filepath.Join(root, "test", "release", "testdata", "plain-secret-values.yaml"), filepath.Join(ws, "values", "plain-secret.yaml"))
	if err := os.WriteFile(filepath.Join(ws, "values", "prod.yaml"), []byte("auditInterval: 30\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return ws
}

// TestAction runs the GitHub Action's steps as a runner would and checks
// the annotations, the exit status, the outputs and the SARIF file.
func TestAction(t *testing.T) {
	runnerTemp := t.TempDir() // shared: the install step finds its binary up to date
	const annotation = "::error file=manifests/broken.yaml,line=11,col=19,title=connection-config-json::"
	for _, c := range []struct {
		name     string
		inputs   map[string]string
		jobEnv   func(t *testing.T) []string
		wantCode int
		want     []string
		notWant  []string
		sarif    bool
	}{
		{name: "broken manifest annotated", inputs: map[string]string{"paths": "manifests/"},
			wantCode: 1, want: []string{annotation, "pubsub-lint " + version.Version + "\n"}},
		{name: "chart with values, set and namespace", inputs: map[string]string{
			"paths": "charts/gatekeeper-pubsub", "values": "values/prod.yaml", "namespace": "gatekeeper-system",
			"set": "audit.enablePubsub=true\naudit.channel=audit-channel\n"},
			want: []string{"pubsub-lint " + version.Version}, notWant: []string{"::error"}},
		{name: "chart refusing a plain-text secret", inputs: map[string]string{
			"paths": "charts/gatekeeper-pubsub", "values": "values/plain-secret.yaml", "namespace": "gatekeeper-system"},
			wantCode: 1, want: []string{"::error file=values/plain-secret.yaml,line=9,col=7,title=chart-values-invalid::", "redisPassword"}},
		{name: "sarif for code scanning", inputs: map[string]string{
			"paths": "manifests/", "sarif-file": "results/pubsub-lint.sarif", "fail-on": "none"},
			want: []string{annotation}, sarif: true},
		{name: "go install at the release's version", inputs: map[string]string{"paths": "manifests/", "version": version.ModuleVersion()},
			jobEnv: func(t *testing.T) []string {
				gopath := t.TempDir()
				env := []string{
					"GOPATH=" + gopath, "GOMODCACHE=" + filepath.Join(gopath, "pkg", "mod"),
					"GOPROXY=file://" + moduleProxy(t) + ",file://" + filepath.Join(goEnv(t, "GOMODCACHE"), "cache", "download") + "," + goEnv(t, "GOPROXY"),
					"GONOSUMDB=" + modulePath, "GOFLAGS=-trimpath", "CGO_ENABLED=0", "GOWORK=off",
				}
				t.Cleanup(func() { _, _ = runCmd(t, gopath, withEnv(env...), "go", "clean", "-modcache") })
				return env
			},
			wantCode: 1, want: []string{annotation, "module:     " + version.ModuleVersion()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws := workspace(t)
			var jobEnv []string
			rt := runnerTemp
			if c.jobEnv != nil {
				jobEnv, rt = c.jobEnv(t), t.TempDir()
			}
			r := runAction(t, c.inputs, ws, rt, jobEnv)
			if r.code != c.wantCode {
				t.Errorf("exit %d, want %d", r.code, c.wantCode)
			}
			if got := r.outputs["exit-code"]; got != fmt.Sprint(c.wantCode) {
				t.Errorf("output exit-code %q, want %d", got, c.wantCode)
			}
			for _, w := range c.want {
				if !strings.Contains(r.log, w) {
					t.Errorf("the log does not contain %q", w)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(r.log, w) {
					t.Errorf("the log contains %q", w)
				}
			}
			if c.sarif {
				checkSARIF(t, ws, r.outputs["sarif-file"])
			}
			if t.Failed() {
				t.Logf("action log:\n%s", r.log)
			}
		})
	}
}

func checkSARIF(t *testing.T, ws, file string) {
	t.Helper()
	if file == "" {
		t.Fatal("no sarif-file output")
	}
	b, err := os.ReadFile(filepath.Join(ws, file))
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string
		Runs    []struct {
			Results []struct {
				RuleID    string
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b, &log); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) == 0 {
		t.Fatalf("%s: version %q, %d runs", file, log.Version, len(log.Runs))
	}
	r := log.Runs[0].Results[0]
	if r.RuleID != "connection-config-json" || len(r.Locations) == 0 ||
		r.Locations[0].PhysicalLocation.ArtifactLocation.URI != "manifests/broken.yaml" || r.Locations[0].PhysicalLocation.Region.StartLine != 11 {
		t.Errorf("%s: first result %+v", file, r)
	}
}

// readmeBlock returns the fenced code block of README.md that holds all of
// marks.
func readmeBlock(t *testing.T, marks ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("(?s)```[a-z]*\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		ok := true
		for _, mark := range marks {
			ok = ok && strings.Contains(m[1], mark)
		}
		if ok {
			return m[1]
		}
	}
	t.Fatalf("README.md has no code block with %q", marks)
	return ""
}

// TestPreCommitHook installs and runs the hook as pre-commit does for
// `language: golang`: `go install ./...` in the hook repository (a copy of
// the checkout, as pre-commit clones it at rev) with GOPATH set to the
// hook's environment, then the entry with the args of the README's
// .pre-commit-config.yaml, from the user's repository, with the
// environment's bin first on PATH. (GOMODCACHE is set to the machine's
// module cache, as a user's environment may; TestGoInstall covers an empty
// one.)
func TestPreCommitHook(t *testing.T) {
	var hooks []struct {
		ID, Entry, Language, Files string
		PassFilenames              *bool `json:"pass_filenames"`
		Args                       []string
	}
	readYAML(t, filepath.Join(repoRoot(t), ".pre-commit-hooks.yaml"), &hooks)
	if len(hooks) != 1 || hooks[0].ID != "pubsub-lint" || hooks[0].Language != "golang" || hooks[0].Entry != "pubsub-lint" {
		t.Fatalf(".pre-commit-hooks.yaml: %+v", hooks)
	}
	hook := hooks[0]
	if hook.PassFilenames == nil || *hook.PassFilenames {
		t.Errorf("pass_filenames must be false: the setup is checked as a whole")
	}
	var cfg struct {
		Repos []struct {
			Repo, Rev string
			Hooks     []struct {
				ID   string
				Args []string
			}
		}
	}
	if err := yaml.Unmarshal([]byte(readmeBlock(t, "repos:", "id: pubsub-lint")), &cfg); err != nil {
		t.Fatalf("README's .pre-commit-config.yaml: %v", err)
	}
	if len(cfg.Repos) != 1 || len(cfg.Repos[0].Hooks) != 1 || cfg.Repos[0].Hooks[0].ID != hook.ID {
		t.Fatalf("README's .pre-commit-config.yaml: %+v", cfg)
	}
	if cfg.Repos[0].Rev != version.ModuleVersion() {
		t.Errorf("README pins rev %s, the release is %s", cfg.Repos[0].Rev, version.ModuleVersion())
	}
	userArgs := cfg.Repos[0].Hooks[0].Args
	files := regexp.MustCompile(hook.Files)
	for name, want := range map[string]bool{"deploy/gatekeeper-pubsub/broken.yaml": true, "charts/x/values.yml": true, "cmd/main.go": false} {
		if files.MatchString(name) != want {
			t.Errorf("files %q matching %s: %v, want %v", hook.Files, name, !want, want)
		}
	}

	// Install.
	clone := checkoutCopy(t)
	envDir := t.TempDir()
	var env []string
	// GOMODCACHE as a user's environment may set it (pre-commit passes the
	// environment through): the machine's, not GOPATH/pkg/mod.
	for _, e := range withEnv("GOPATH="+envDir, "GOMODCACHE="+goEnv(t, "GOMODCACHE")) {
		if !strings.HasPrefix(e, "GOBIN=") {
			env = append(env, e)
		}
	}
	if out, code := runCmd(t, clone, env, "go", "install", "./..."); code != 0 {
		t.Fatalf("go install ./... in the hook repository: exit %d\n%s", code, out)
	}

	// Run, from the user's repository, the entry found on the hook's PATH.
	path := filepath.Join(envDir, "bin") + string(os.PathListSeparator) + os.Getenv("PATH")
	runEnv := withEnv("PATH=" + path)
	entry := strings.Fields(hook.Entry)
	entryBin := ""
	for _, dir := range filepath.SplitList(path) {
		if fi, err := os.Stat(filepath.Join(dir, entry[0])); err == nil && fi.Mode().IsRegular() {
			entryBin = filepath.Join(dir, entry[0])
			break
		}
	}
	if entryBin != filepath.Join(envDir, "bin", entry[0]) {
		t.Fatalf("the entry %s found on the hook's PATH is %q, want the one go install built", entry[0], entryBin)
	}
	for _, c := range []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"README's args on a broken setup", userArgs, 1, "connection-config-json"},
		{"a chart", []string{"charts/gatekeeper-pubsub", "--set", "audit.enablePubsub=true", "-n", "gatekeeper-system"}, 0, "0 errors"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws := workspace(t)
			if len(userArgs) > 0 {
				copyFile(t, filepath.Join(ws, "manifests", "broken.yaml"), filepath.Join(ws, userArgs[0], "broken.yaml"))
			}
			out, code := runCmd(t, ws, runEnv, entryBin, append(append(entry[1:], hook.Args...), c.args...)...)
			if code != c.wantCode || !strings.Contains(out, c.want) {
				t.Errorf("%s %v: exit %d, want %d with %q:\n%s", hook.Entry, c.args, code, c.wantCode, c.want, out)
			}
		})
	}
}

var theHelm once[string]

// helmCLI builds Helm's own CLI (helm.sh/helm/v3/cmd/helm, from the module
// in testdata/helmcli at the product's dependency versions).
func helmCLI(t *testing.T) string {
	t.Helper()
	return theHelm.get(t, "building helm", func() (string, error) {
		dir, err := os.MkdirTemp("", "release-helm-")
		if err != nil {
			return "", err
		}
		addCleanup(func() { os.RemoveAll(dir) })
		root, err := procs.RepoRoot()
		if err != nil {
			return "", err
		}
		bin := filepath.Join(dir, "helm")
		cmd := exec.Command("go", "build", "-o", bin, "helm.sh/helm/v3/cmd/helm")
		cmd.Dir = filepath.Join(root, "test", "release", "testdata", "helmcli")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build helm.sh/helm/v3/cmd/helm: %w\n%s", err, out)
		}
		return bin, nil
	})
}

// TestHelmPlugin installs the plugin with Helm's own CLI (`helm plugin
// install DIR`, which runs the install hook) and runs `helm pubsub-lint`:
// Helm's values flags reach pubsub-lint, and the release namespace is
// Helm's (-n, which Helm takes for itself, else the kubeconfig context's,
// else default).
func TestHelmPlugin(t *testing.T) {
	helm := helmCLI(t)
	plugin := checkoutCopy(t)
	home := t.TempDir()
	kubeconfig := filepath.Join(home, "kubeconfig")
	env := withEnv("HELM_PLUGINS="+filepath.Join(home, "plugins"), "HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"), "HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+kubeconfig)
	env = dropEnv(env, "HELM_NAMESPACE")
	out, code := runCmd(t, home, env, helm, "plugin", "install", plugin)
	if code != 0 || !strings.Contains(out, "pubsub-lint "+version.Version) {
		t.Fatalf("helm plugin install: exit %d\n%s", code, out)
	}
	out, code = runCmd(t, home, env, helm, "plugin", "list")
	if code != 0 || !regexp.MustCompile(`pubsub-lint\s+`+regexp.QuoteMeta(version.Version)).MatchString(out) {
		t.Errorf("helm plugin list: exit %d\n%s", code, out)
	}
	const ctxNS = "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: k, namespace: gatekeeper-system}\nclusters:\n- name: k\n  cluster: {server: https://127.0.0.1:1}\n"
	for _, c := range []struct {
		name       string
		args       []string
		kubeconfig string
		wantCode   int
		want       string
	}{
		{"-n is Helm's and reaches pubsub-lint", []string{"charts/gatekeeper-pubsub", "--set", "audit.enablePubsub=true", "--set", "audit.deploy=false", "-n", "gatekeeper-system"}, "", 0, "0 errors"},
		{"no -n: Helm's default namespace", []string{"charts/gatekeeper-pubsub", "--set", "audit.enablePubsub=true", "--set", "audit.deploy=false"}, "", 1, `connection-wrong-namespace: connection config "audit-connection" is in namespace "default"`},
		{"no -n: the kubeconfig context's namespace", []string{"charts/gatekeeper-pubsub", "--set", "audit.enablePubsub=true", "--set", "audit.deploy=false"}, ctxNS, 0, "0 errors"},
		{"-f and --format pass through", []string{"charts/gatekeeper-pubsub", "-f", "values/plain-secret.yaml", "--namespace", "gatekeeper-system", "--format", "github"}, "", 1, "::error file=values/plain-secret.yaml,line=9,col=7,title=chart-values-invalid::"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_ = os.Remove(kubeconfig)
			if c.kubeconfig != "" {
				if err := os.WriteFile(kubeconfig, []byte(c.kubeconfig), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			out, code := runCmd(t, workspace(t), env, helm, append([]string{"pubsub-lint"}, c.args...)...)
			if code != c.wantCode || !strings.Contains(out, c.want) {
				t.Errorf("helm pubsub-lint %v: exit %d, want %d with %q:\n%s", c.args, code, c.wantCode, c.want, out)
			}
		})
	}
}

func dropEnv(env []string, key string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, key+"=") {
			out = append(out, e)
		}
	}
	return out
}

// TestPreCommitFramework runs the hook with the real pre-commit framework
// (Debian's pre-commit, installed by make tools): it clones this repository
// at a commit, builds the hook's environment (language golang: go install)
// and runs the entry with the README's args in a user's repository.
func TestPreCommitFramework(t *testing.T) {
	preCommit, err := exec.LookPath("pre-commit")
	if err != nil {
		t.Fatal("pre-commit is not installed: run `make tools` (installs Debian's pre-commit)")
	}
	// The hook repository: this checkout's files as one commit.
	hookRepo := checkoutCopy(t)
	gitEnv := withEnv("GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.invalid", "GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.invalid")
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"commit", "-q", "--allow-empty", "-m", "hook"}} {
		if out, code := runCmd(t, hookRepo, gitEnv, "git", args...); code != 0 {
			t.Fatalf("git %v: exit %d\n%s", args, code, out)
		}
	}
	rev, code := runCmd(t, hookRepo, gitEnv, "git", "rev-parse", "HEAD")
	if code != 0 {
		t.Fatalf("git rev-parse: %s", rev)
	}
	var cfg struct {
		Repos []struct {
			Hooks []struct{ Args []string }
		}
	}
	if err := yaml.Unmarshal([]byte(readmeBlock(t, "repos:", "id: pubsub-lint")), &cfg); err != nil || len(cfg.Repos) != 1 || len(cfg.Repos[0].Hooks) != 1 {
		t.Fatalf("README's .pre-commit-config.yaml: %v %+v", err, cfg)
	}
	args := cfg.Repos[0].Hooks[0].Args

	// The user's repository, with a broken setup where the README's args
	// point.
	ws := workspace(t)
	if len(args) > 0 {
		copyFile(t, filepath.Join(ws, "manifests", "broken.yaml"), filepath.Join(ws, args[0], "broken.yaml"))
	}
	config := fmt.Sprintf("repos:\n  - repo: %s\n    rev: %s\n    hooks:\n      - id: pubsub-lint\n        args: %q\n", hookRepo, strings.TrimSpace(rev), args)
	if err := os.WriteFile(filepath.Join(ws, ".pre-commit-config.yaml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, a := range [][]string{{"init", "-q"}, {"add", "-A"}, {"commit", "-q", "-m", "setup"}} {
		if out, code := runCmd(t, ws, gitEnv, "git", a...); code != 0 {
			t.Fatalf("git %v in the user's repository: exit %d\n%s", a, code, out)
		}
	}
	env := withEnv("PRE_COMMIT_HOME="+t.TempDir(), "GOMODCACHE="+goEnv(t, "GOMODCACHE"))
	out, code := runCmd(t, ws, env, preCommit, "run", "--all-files")
	if code != 1 || !strings.Contains(out, "pubsub-lint") || !strings.Contains(out, "connection-config-json") || !strings.Contains(out, "Failed") {
		t.Fatalf("pre-commit run --all-files: exit %d, want 1 with the hook failing on connection-config-json:\n%s", code, out)
	}
}
