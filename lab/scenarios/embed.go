// Package scenarios embeds the lab scenarios: small simulated forests, each broken the way one
// row of the 8524 article describes (or healthy). See lab/scenario for the format.
package scenarios

import "embed"

// FS holds every *.hcl scenario file.
//
//go:embed *.hcl
var FS embed.FS
