// Package objref names Kubernetes objects in messages, one way for every
// package: "Kind namespace/name".
package objref

// Ref names an object.
type Ref struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
}

// String is "Kind namespace/name" ("Kind name" without a namespace), or for
// an object without a name "Kind without metadata.name in namespace ns";
// "" without a kind.
func (r Ref) String() string {
	switch {
	case r.Kind == "":
		return ""
	case r.Name == "" && r.Namespace != "":
		return r.Kind + " without metadata.name in namespace " + r.Namespace
	case r.Name == "":
		return r.Kind + " without metadata.name"
	case r.Namespace != "":
		return r.Kind + " " + r.Namespace + "/" + r.Name
	default:
		return r.Kind + " " + r.Name
	}
}
