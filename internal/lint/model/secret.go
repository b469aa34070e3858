package model

import ()

// Secret is a Secret among the inputs: which keys it holds (data and
// stringData), never their values.
type Secret struct {
	Obj  *Object
	Keys []string
}

// Secret returns the Secret ns/name among the inputs, or nil.
func (s *Setup) Secret(ns, name string) *Secret { return s.Secrets[ns+"/"+name] }

// SecretsIn lists the names of the Secrets of namespace ns among the
// inputs.
func (s *Setup) SecretsIn(ns string) []string {
	var out []string
	for _, sec := range s.Secrets {
		if sec.Obj.NS == ns {
			out = append(out, sec.Obj.Name())
		}
	}
	return out
}

func newSecret(o *Object) *Secret {
	sec := &Secret{Obj: o}
	for _, f := range []string{"data", "stringData"} {
		m, _ := o.Obj[f].(map[string]any)
		for k := range m {
			sec.Keys = append(sec.Keys, k)
		}
	}
	return sec
}
