package release

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"go.yaml.in/yaml/v3"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/registry"
	sigsyaml "sigs.k8s.io/yaml"
)

// CheckChartVersion fails unless the chart's version is version: the chart
// is released with the version of everything else.
func CheckChartVersion(chartDir, version string) error {
	meta, err := chartutil.LoadChartfile(filepath.Join(chartDir, chartutil.ChartfileName))
	if err != nil {
		return fmt.Errorf("reading the chart's version: %w", err)
	}
	if meta.Version != version {
		return fmt.Errorf("%s/Chart.yaml has version %s, the release is %s (internal/version/VERSION): set the chart's version to %s", chartDir, meta.Version, version, version)
	}
	return nil
}

// ChartPins are the values pinned in the packaged chart: the helm test
// pod's pubsub-send, the sample subscriber, the violations consumer and
// the audit's pubsub-forward sidecar (disk export), each as repository and
// "tag@digest" (the chart writes repository:tag, so the image becomes
// repository:tag@sha256:..., which a runtime pulls by digest), and the
// subscriber, consumer and forwarder pulled (their source default Never is
// for images loaded by hand); and the Gatekeeper image (Name
// GatekeeperImageName) as image.registry, image.repository, image.release
// and image.digest, which the chart writes registry/repository:tag@digest.
// Every repository is the pushed one, with its registry's host.
func ChartPins(images []Image) map[string]string {
	pins := map[string]string{}
	for _, img := range images {
		var key string
		switch img.Name {
		case GatekeeperImageName:
			registry, repository, _ := strings.Cut(img.Repository, "/")
			if r, err := name.NewRepository(img.Repository); err == nil {
				registry, repository = r.RegistryStr(), r.RepositoryStr()
			}
			pins["image.registry"] = registry
			pins["image.repository"] = repository
			pins["image.release"] = img.Tag
			pins["image.digest"] = img.Digest
			continue
		case "pubsub-send":
			key = "tests.image"
		case "fake-subscriber":
			key = "subscriber.image"
			pins[key+".pullPolicy"] = "IfNotPresent"
		case "violations":
			key = "consumer.image"
			pins[key+".pullPolicy"] = "IfNotPresent"
		case "pubsub-forward":
			key = "audit.forwarder.image"
			pins[key+".pullPolicy"] = "IfNotPresent"
		default:
			continue
		}
		pins[key+".repository"] = img.Repository
		pins[key+".tag"] = img.Tag + "@" + img.Digest
	}
	return pins
}

// ChartGatekeeperVersion is the gatekeeperVersion of the chart's
// values.yaml: the Gatekeeper release the chart runs by default.
func ChartGatekeeperVersion(chartDir string) (string, error) {
	vals, err := chartutil.ReadValuesFile(filepath.Join(chartDir, chartutil.ValuesfileName))
	if err != nil {
		return "", fmt.Errorf("reading the chart's gatekeeperVersion: %w", err)
	}
	v, _ := vals["gatekeeperVersion"].(string)
	if v == "" {
		return "", fmt.Errorf("%s/%s has no gatekeeperVersion", chartDir, chartutil.ValuesfileName)
	}
	return "v" + strings.TrimPrefix(v, "v"), nil
}

// PinValues sets each dotted key of pins in a values.yaml document to its
// value. Only the value's text changes (to a double-quoted string): the
// document's comments, blank lines and order stay as they are, so the
// packaged values.yaml reads as the source one. A key that the document
// does not have, or whose value is not a one-line scalar, is an error: pins
// never invent values.
func PinValues(values []byte, pins map[string]string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(values, &doc); err != nil {
		return nil, fmt.Errorf("values.yaml: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("values.yaml: not a mapping")
	}
	lines := strings.SplitAfter(string(values), "\n")
	for _, key := range sortedKeys(pins) {
		n, err := lookup(doc.Content[0], key)
		if err != nil {
			return nil, err
		}
		if n.Kind != yaml.ScalarNode || n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || n.Line < 1 || n.Line > len(lines) {
			return nil, fmt.Errorf("values.yaml: %s is not a one-line scalar", key)
		}
		line := lines[n.Line-1]
		body := strings.TrimRight(line, "\r\n")
		col := n.Column - 1
		if col < 0 || col > len(body) {
			return nil, fmt.Errorf("values.yaml: %s: position %d:%d outside the line", key, n.Line, n.Column)
		}
		rest := body[col:]
		end := len(rest)
		if i := strings.Index(rest, " #"); i >= 0 {
			end = i
		}
		token := strings.TrimRight(rest[:end], " \t")
		lines[n.Line-1] = body[:col] + strconv.Quote(pins[key]) + rest[len(token):] + line[len(body):]
	}
	out := []byte(strings.Join(lines, ""))
	// What was written must read back as the pins, and nothing else moved.
	var check map[string]any
	if err := yaml.Unmarshal(out, &check); err != nil {
		return nil, fmt.Errorf("pinned values.yaml: %w", err)
	}
	for key, want := range pins {
		var got any = check
		for _, p := range strings.Split(key, ".") {
			m, _ := got.(map[string]any)
			got = m[p]
		}
		if got != want {
			return nil, fmt.Errorf("pinned values.yaml: %s reads back as %v, want %q", key, got, want)
		}
	}
	return out, nil
}

// lookup finds the node of a dotted key in a mapping.
func lookup(n *yaml.Node, key string) (*yaml.Node, error) {
	parts := strings.Split(key, ".")
	for i, p := range parts {
		if n.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("values.yaml: %s is not a mapping", strings.Join(parts[:i], "."))
		}
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == p {
				next = n.Content[j+1]
				break
			}
		}
		if next == nil {
			return nil, fmt.Errorf("values.yaml has no %s", strings.Join(parts[:i+1], "."))
		}
		n = next
	}
	return n, nil
}

// PackageChart packages the chart in chartDir as `helm package` does
// (chartutil.Save) with pins applied to its values.yaml, and lists the
// images in the artifacthub.io/images annotation. It returns the .tgz.
func PackageChart(chartDir, version string, pins map[string]string, images []Image, outDir string) (string, error) {
	c, err := loader.Load(chartDir)
	if err != nil {
		return "", fmt.Errorf("loading chart %s: %w", chartDir, err)
	}
	if c.Metadata.Version != version {
		return "", fmt.Errorf("chart %s version %s, want %s", chartDir, c.Metadata.Version, version)
	}
	found := false
	for _, f := range c.Raw {
		if f.Name != chartutil.ValuesfileName {
			continue
		}
		if f.Data, err = PinValues(f.Data, pins); err != nil {
			return "", err
		}
		if c.Values, err = chartutil.ReadValues(f.Data); err != nil {
			return "", fmt.Errorf("pinned values.yaml: %w", err)
		}
		found = true
	}
	if !found {
		return "", fmt.Errorf("chart %s has no %s", chartDir, chartutil.ValuesfileName)
	}
	if len(c.Schema) > 0 {
		if err := chartutil.ValidateAgainstSingleSchema(c.Values, c.Schema); err != nil {
			return "", fmt.Errorf("pinned values against values.schema.json: %w", err)
		}
	}
	type annotated struct {
		Name  string `json:"name"`
		Image string `json:"image"`
	}
	var list []annotated
	for _, img := range images {
		list = append(list, annotated{Name: img.Name, Image: img.Ref()})
	}
	if len(list) > 0 {
		b, err := sigsyaml.Marshal(list)
		if err != nil {
			return "", err
		}
		if c.Metadata.Annotations == nil {
			c.Metadata.Annotations = map[string]string{}
		}
		c.Metadata.Annotations["artifacthub.io/images"] = string(b)
	}
	file, err := chartutil.Save(c, outDir)
	if err != nil {
		return "", fmt.Errorf("packaging chart %s: %w", chartDir, err)
	}
	return file, nil
}

// NewRegistryClient is Helm's OCI registry client: plain HTTP for a
// loopback registry (as `helm push --plain-http`), credentials from Helm's
// registry config and Docker's, progress to out.
func NewRegistryClient(host string, out io.Writer) (*registry.Client, error) {
	opts := []registry.ClientOption{registry.ClientOptWriter(out)}
	if IsLoopback(host) {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	c, err := registry.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("helm registry client: %w", err)
	}
	return c, nil
}

// PushChart pushes the packaged chart file to oci://repository/NAME:VERSION
// with Helm's registry client, as `helm push FILE oci://repository` does.
func PushChart(file, repository string, out io.Writer) (Chart, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Chart{}, fmt.Errorf("reading %s: %w", file, err)
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return Chart{}, fmt.Errorf("loading %s: %w", file, err)
	}
	host, _, _ := strings.Cut(repository, "/")
	client, err := NewRegistryClient(host, out)
	if err != nil {
		return Chart{}, err
	}
	ref := repository + "/" + c.Name() + ":" + c.Metadata.Version
	var opts []registry.PushOption
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		if t, err := epochTime(epoch); err == nil {
			opts = append(opts, registry.PushOptCreationTime(t.UTC().Format("2006-01-02T15:04:05Z")))
		}
	}
	res, err := client.Push(data, ref, opts...)
	if err != nil {
		return Chart{}, fmt.Errorf("helm push %s oci://%s: %w", file, repository, err)
	}
	return Chart{
		Ref: "oci://" + repository + "/" + c.Name(), Tag: c.Metadata.Version,
		Digest: res.Manifest.Digest, Size: res.Chart.Size, File: file,
	}, nil
}
