// Command wasmcore is the engine core as the patient's browser loads it, reduced to what
// engine/wasm_test.go needs: a main package that links the clock, schema, merge, protocol
// codec, sync loop and clinic rules, built with GOOS=js GOARCH=wasm. It lives under testdata
// so that `go test ./...` and `go vet ./...` skip it; the test builds it by path.
package main

import (
	"fmt"

	"hearth/engine"
	"hearth/engine/clinic"
)

// keep references the entry points a browser client uses, so the linker keeps them.
var keep = []any{
	engine.NewSyncer,
	engine.Apply,
	engine.Local,
	engine.EncodeFrame,
	engine.DecodeFrame,
	engine.EncodeChange,
	engine.DecodeChange,
	engine.NewClock,
	engine.NewID,
}

func main() {
	fmt.Println("hearth engine core", len(keep), "entry points, clinic schema version", clinic.Schema.Version())
}
