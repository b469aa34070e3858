package render

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fastCases are documents at the edges of the fast path's subset. For each,
// the fast path must either refuse it or agree with the general path.
var fastCases = []string{
	"a: 1\nb: -2\nc: 0\nd: 007\ne: 1.5\nf: 1e3\ng: 0x1f\nh: 1_000\ni: +5\nj: -0\n",
	"a: y\nb: Yes\nc: on\nd: OFF\ne: n\nf: ~\ng: null\nh: Null\ni: true\nj: FALSE\nk: nul\n",
	"a: 2024-01-02\nb: 2024-1-2T10:00:00Z\nc: 1234-x\nd: 50m\ne: 64Mi\nf: 1.0.0\ng: .5\nh: .inf\ni: .x\n",
	"y: 1\n", "on: 1\n", "1: a\n", "null: a\n", "~: a\n", "'y': 1\n", "\"1\": a\n",
	"a: b: c\n", "a: b:\n", "a: b #c\nd: e#f\n", "a: 'it''s'\nb: \"x # y\"\nc: \"a\\tb\"\n",
	"a: [x, y, 'z', \"w\"]\nb: {c: d, 'e': f, \"g\": [1, 2]}\nc: []\nd: {}\n",
	"a: [x, ]\n", "a: [x,,y]\n", "a: {b}\n", "a: {b:c}\n", "a: [b: c]\n", "a: [a:b]\n", "a: [x\n  , y]\n",
	"a: [x] y\n", "a: \"x\" y\n", "a: 'x'#c\n", "a: [-1, -x]\n", "a: {k: v, k: w}\n",
	"a:\n- x\n- y\nb:\n  - 1\n  -\n  - - z\n    - w\n",
	"a:\n  b:\n    c: d\n  e: f\ng: h\n",
	"a:\n  b: 1\n c: 2\n", "a:\n    b: 1\n  c: 2\n", "a: 1\n  b: 2\n", "a: x\n  y\n", "- a\n- b\n",
	"a:\n  x\n", "a: 1\na: 2\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: |\n  x\n", "a: >\n  x\n",
	"a:\tb\n", "a: b\r\n", "a: é\n", "? a\n: b\n", "a: - b\n", "a: -\n", "a: :b\n", "a: @x\n", "a: `x\n",
	"<<: {a: 1}\n", "a: %x\n", "%YAML 1.1\na: b\n", "a:\n- b: 1\n  c: 2\n- d\n",
	"- a: 1\n", "  a: 1\n  b: 2\n", "  a: 1\n b: 2\n", "a:\n  - b\n  c: d\n", "a:\n- b\nc:\n-\n",
	"-x: 1\n", "a: -x\nb: --port=8080\nc: \"\"\nd: ''\ne: ' '\n", "a:   # c\n  b: 1\n", "a: #c\nb: 1\n",
	"a: b # c: d\n", "a: x, y\nb: x [y]\nc: x{y}\n", "a: {b: {c: [d, {e: f}]}}\n",
	"a: 9223372036854775807\nb: 999999999999999999\nc: -999999999999999999\nd: 18446744073709551616\n",
	"a: 0b101\nb: -0b1\nc: 0o17\nd: 08\ne: 1__0\n", "a: +\nb: -\n", "a: '\n", "a: \"\n", "a: [\n", "a: {\n",
	"'a: b'\n", "\"a\": b\n", "a: 'x':\n", "apiVersion: v1\nkind: List\nitems:\n- kind: A\n",
	"a:\n-   b: 1\n    c: 2\n-   - d\n    - e\n", "a: x\n# c\n   # d\nb: y\n", "a:\n\n  b: 1\n\n",
	"a: [x, {y: z}]\n", "a: {x: [y, z], w: v}\n", "a: [x y, z]\n", "a: {b: c d}\n", "a: [x&y, z!w]\n",
	"a: [x?y]\n", "a: {? b: c}\n", "a: [\"x\": y]\n", "a: {\"x\":y}\n", "a: {'b': }\n", "a: {b: }\n",
}

func checkFastAgainstGeneral(t *testing.T, text []byte) bool {
	t.Helper()
	m, ok := fastDecode(text)
	if !ok {
		return false
	}
	if k, _ := m["kind"].(string); k == "List" {
		return true // expanded by decodeDoc, which then takes the general path
	}
	d := doc{text: text, firstLine: 1}
	start := contentLine(d)
	objs, err := decodeGeneral("in.yaml", d, start)
	if err != nil {
		t.Errorf("fast path accepted %q, the general path fails: %v", text, err)
		return true
	}
	if len(objs) != 1 || !reflect.DeepEqual(objs[0].Obj, m) {
		var got []map[string]any
		for _, o := range objs {
			got = append(got, o.Obj)
		}
		t.Errorf("%q:\nfast    %#v\ngeneral %#v", text, m, got)
	}
	return true
}

func TestFastDecodeMatchesGeneral(t *testing.T) {
	fast := 0
	for _, c := range fastCases {
		if checkFastAgainstGeneral(t, []byte(c)) {
			fast++
		}
	}
	t.Logf("fast path took %d of %d cases", fast, len(fastCases))
	if fast < 20 {
		t.Errorf("fast path took only %d cases", fast)
	}
}

// TestFastDecodeRepoYAML checks every YAML document in the repository.
func TestFastDecodeRepoYAML(t *testing.T) {
	root := filepath.Join("..", "..")
	docs, fast := 0, 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n != ".." && strings.HasPrefix(n, ".") || n == "node_modules" || n == "vendor" {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" && ext != ".json" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, dd := range splitDocs(data) {
			docs++
			if checkFastAgainstGeneral(t, dd.text) {
				fast++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fast path took %d of %d documents", fast, docs)
	// The repository's YAML is mostly what the fast path is for: if it
	// took none (or nothing was found), nothing was compared.
	if docs < 100 || fast < docs/4 {
		t.Errorf("fast path took %d of %d documents: want at least 100 documents and a quarter of them", fast, docs)
	}
}

func FuzzFastDecode(f *testing.F) {
	for _, c := range fastCases {
		f.Add([]byte(c))
	}
	f.Add([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n  labels: {app: x}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        args: [\"--a=1\", b]\n        env:\n        - {name: A, value: b}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastAgainstGeneral(t, data)
		if got, want := splitDocs(data), oldSplitDocs(data); !reflect.DeepEqual(normDocs(got), normDocs(want)) {
			t.Errorf("splitDocs(%q) = %+v, want %+v", data, got, want)
		}
		if got, want := readDocs(data, 16), oldSplitDocs(data); !reflect.DeepEqual(normDocs(got), normDocs(want)) {
			t.Errorf("eachDoc from a reader (%q) = %+v, want %+v", data, got, want)
		}
	})
}

// readDocs splits data read through a reader with a small buffer, so long
// lines span several reads.
func readDocs(data []byte, size int) []doc {
	var docs []doc
	_ = eachDoc(nil, bufio.NewReaderSize(bytes.NewReader(data), size), func(d doc) error {
		docs = append(docs, d)
		return nil
	})
	return docs
}

func TestSplitDocsMatchesOld(t *testing.T) {
	for _, in := range []string{"", "\n", "a\r\nb\r", "---\na\n...\n--- {a: 1}\n---\t# c\nb", "a\n---x\n--- \n...  \n", "---", "x\n---\n"} {
		if got, want := splitDocs([]byte(in)), oldSplitDocs([]byte(in)); !reflect.DeepEqual(normDocs(got), normDocs(want)) {
			t.Errorf("splitDocs(%q) = %+v, want %+v", in, got, want)
		}
		if got, want := readDocs([]byte(in), 16), oldSplitDocs([]byte(in)); !reflect.DeepEqual(normDocs(got), normDocs(want)) {
			t.Errorf("eachDoc from a reader (%q) = %+v, want %+v", in, got, want)
		}
	}
}

func normDocs(ds []doc) []doc {
	out := make([]doc, len(ds))
	for i, d := range ds {
		out[i] = doc{text: append([]byte{}, d.text...), firstLine: d.firstLine}
	}
	return out
}

// oldSplitDocs is the previous implementation, kept as the reference.
func oldSplitDocs(data []byte) []doc {
	var docs []doc
	cur := doc{firstLine: 1}
	var buf bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	line := 0
	for sc.Scan() {
		line++
		l := sc.Text()
		if rest, ok := strings.CutPrefix(l, "---"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			cur.text = append([]byte(nil), buf.Bytes()...)
			docs = append(docs, cur)
			buf.Reset()
			cur = doc{firstLine: line + 1}
			rest = strings.TrimSpace(rest)
			if rest != "" && !strings.HasPrefix(rest, "#") {
				cur.firstLine = line
				buf.WriteString(rest)
				buf.WriteByte('\n')
			}
			continue
		}
		if strings.TrimRight(l, " \t\r") == "..." {
			continue
		}
		buf.WriteString(l)
		buf.WriteByte('\n')
	}
	cur.text = append([]byte(nil), buf.Bytes()...)
	return append(docs, cur)
}

// TestFastDecodeRandom builds documents from pieces at the edges of the
// subset (indentation, entries, keys, scalars, flows, comments) and checks
// the fast path against the general one on each.
func TestFastDecodeRandom(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	if s := os.Getenv("FAST_RANDOM_N"); s != "" {
		if _, err := fmt.Sscan(s, &n); err != nil {
			t.Fatalf("FAST_RANDOM_N=%q: %v", s, err)
		}
	}
	indents := []string{"", "", "  ", "  ", "    ", "    ", "      ", " ", "   "}
	entries := []string{"", "", "", "- ", "- ", "-  ", "- - ", "-"}
	keys := []string{"a", "b", "name", "x.y/z", "'q'", `"d"`, "k1", "a-b_c", "y", "1", "a b", "-k", "", "on", "é", "a#", "<<", "? a", ".k", "'y'"}
	seps := []string{": ", ": ", ":", ":  ", " :", "", ":\t"}
	values := []string{"", "", "x", "1", "-1", "'q'", "'it''s'", `"q"`, "[a, b]", "{a: b}", "{a: [b, c]}", "#c", "x #c", "x#c",
		"--x", "on", "a b", "~", "null", "[]", "{}", "x ", "a, b", "true", "No", "[a,b]", "{'a': 'b'}", "{a: b} #c", "0", "-0",
		"007", "1.5", `"a\n"`, "a: b", "[x", "-", "1e3", "|", ">-", "&a x", "*a", "!!str 1", "[a, ]", "{a}", "2024-01-01",
		"0x1f", "x:", "x: ", "'", `"`, "[a]b", "[-1]", "@x", "`x", ",x", "9999999999999999999", "+1", ".5", ".x", "{a:b}",
		"[a: b]", "%x", "{a: b, a: c}", "a\tb", "x?y", "[x?y]", "{a: x y}", "[x, 'y', \"z\", [1, {b: c}]]"}
	pick := func(r *rand.Rand, l []string) string {
		if r.Intn(4) != 0 {
			return l[r.Intn(min(len(l), 8))] // mostly well-formed pieces
		}
		return l[r.Intn(len(l))]
	}
	r := rand.New(rand.NewSource(randomSeed(1)))
	fast := 0
	for i := 0; i < n; i++ {
		var b strings.Builder
		lines := 1 + r.Intn(6)
		if r.Intn(2) == 0 {
			b.WriteString("kind: A\n")
		}
		for j := 0; j < lines; j++ {
			switch r.Intn(12) {
			case 0:
				b.WriteString(pick(r, indents) + "# comment\n")
				continue
			case 1:
				b.WriteString("\n")
				continue
			case 2:
				b.WriteString(pick(r, indents) + pick(r, entries) + pick(r, values) + "\n")
				continue
			}
			b.WriteString(pick(r, indents) + pick(r, entries) + pick(r, keys) + pick(r, seps) + pick(r, values) + "\n")
		}
		if checkFastAgainstGeneral(t, []byte(b.String())) {
			fast++
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("fast path took %d of %d documents", fast, n)
	// Most random documents fall back to the general decoder; some must not,
	// or nothing was compared.
	if fast < n/100 {
		t.Errorf("fast path took %d of %d documents, want at least 1%%", fast, n)
	}
}

// TestFastDecodeRandomNested builds nested block documents, mostly well
// formed, with occasional slips (indentation off by one, odd pieces).
func TestFastDecodeRandomNested(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	if s := os.Getenv("FAST_RANDOM_N"); s != "" {
		if _, err := fmt.Sscan(s, &n); err != nil {
			t.Fatalf("FAST_RANDOM_N=%q: %v", s, err)
		}
	}
	r := rand.New(rand.NewSource(randomSeed(2)))
	keys := []string{"a", "b", "name", "x.y/z", "'q'", `"d"`, "k1", "a-b_c", "'y'", "y", "1", "no", "a b", "'a''b'"}
	scalars := []string{"x", "1", "-1", "'q'", `"q"`, "[a, b]", "{a: b}", "{a: [b, c]}", "x #c", "x#c", "--x", "on", "a b",
		"~", "null", "[]", "{}", "true", "No", "{'a': 'b'}", "0", "-0", "50m", "64Mi", "1.0.0", "a, b", "x{y}", "[x, {y: [z]}]",
		"007", "1.5", "2024-01-01", "x:", "a: b", "[a, ]", "'", "&a x", "|", "-", "- x", "[x?y]", "{a: x:y}", "1e3", ".5"}
	pick := func(l []string, good int) string {
		if r.Intn(6) != 0 {
			return l[r.Intn(good)]
		}
		return l[r.Intn(len(l))]
	}
	slip := func(indent int) int {
		if r.Intn(40) == 0 {
			return indent + r.Intn(3) - 1
		}
		return indent
	}
	var gen func(b *strings.Builder, indent, depth int, inline bool)
	gen = func(b *strings.Builder, indent, depth int, inline bool) {
		seq := r.Intn(3) == 0
		items := 1 + r.Intn(3)
		for i := 0; i < items; i++ {
			in := slip(indent)
			if i > 0 || !inline {
				b.WriteString(strings.Repeat(" ", max(in, 0)))
			}
			if seq {
				b.WriteString("- ")
			} else {
				b.WriteString(pick(keys, 9) + ":")
			}
			switch {
			case depth < 3 && r.Intn(3) == 0:
				if seq && r.Intn(2) == 0 {
					gen(b, indent+2, depth+1, true) // compact: "- a: b"
					continue
				}
				if r.Intn(5) == 0 {
					b.WriteString(" # c")
				}
				b.WriteString("\n")
				if r.Intn(6) == 0 {
					b.WriteString(strings.Repeat(" ", r.Intn(6)) + "# c\n")
				}
				child := indent + 1 + r.Intn(3)
				if !seq && r.Intn(3) == 0 {
					child = indent // same-indent sequence
					b.WriteString(strings.Repeat(" ", child) + "- " + pick(scalars, 28) + "\n")
					continue
				}
				gen(b, child, depth+1, false)
			default:
				if !seq || r.Intn(8) != 0 {
					b.WriteString(" ")
				}
				b.WriteString(pick(scalars, 28) + "\n")
			}
		}
	}
	fast := 0
	for i := 0; i < n; i++ {
		var b strings.Builder
		gen(&b, 0, 0, false)
		if checkFastAgainstGeneral(t, []byte(b.String())) {
			fast++
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("fast path took %d of %d documents", fast, n)
	if fast < n/5 {
		t.Errorf("fast path took %d of %d documents, want at least 20%%", fast, n)
	}
}

// randomSeed is def unless FAST_RANDOM_SEED sets another.
func randomSeed(def int64) int64 {
	if s := os.Getenv("FAST_RANDOM_SEED"); s != "" {
		if _, err := fmt.Sscan(s, &def); err != nil {
			panic(fmt.Sprintf("FAST_RANDOM_SEED=%q: %v", s, err))
		}
	}
	return def
}

func TestFastDecodeDepth(t *testing.T) {
	if _, ok := fastDecode([]byte("a: " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n")); ok {
		t.Error("fast path took flow nesting beyond maxDepth")
	}
	var b strings.Builder
	for i := 0; i < 100; i++ {
		b.WriteString(strings.Repeat(" ", i) + "a:\n")
	}
	if _, ok := fastDecode([]byte(b.String())); ok {
		t.Error("fast path took block nesting beyond maxDepth")
	}
	if _, ok := fastDecode([]byte("a: " + strings.Repeat("[", 10) + strings.Repeat("]", 10) + "\n")); !ok {
		t.Error("fast path refused shallow flow nesting")
	}
}
