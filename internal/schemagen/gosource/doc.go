// Package gosource finds what a Dapr pubsub component's Go source reads
// from its metadata: a data-flow analysis over go/ast, without type
// checking, so the analysed module's dependencies need not be built.
//
// Files by concept:
//   - tree.go: the module (go.mod through golang.org/x/mod) and its parsed
//     packages, files, constants, types and functions;
//   - consts.go: constant strings, their siblings, types of expressions;
//   - keys.go: Keys, the analysis' state and its result;
//   - env.go: what is known inside one function (which values hold the
//     metadata, which keys a value was read from);
//   - flow.go: following the metadata through statements, assignments and
//     calls into other functions and packages of the module;
//   - decode.go: structs the metadata is decoded into (mapstructure);
//   - values.go: allowed values from comparisons, switches and if chains;
//   - deprecation.go: deprecated keys and their replacements.
package gosource
