package ringcentral

import _ "embed"

// OpenAPISpec is the API contract: RingCentral's public OpenAPI specification cut down to the
// operations this client (and the simulator) speak, kept in the repository as openapi.yml.
// Tests check the simulator's responses against it (rcsim/rcsimtest).
//
//go:embed openapi.yml
var OpenAPISpec []byte
