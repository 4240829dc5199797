package memstore_test

import (
	"testing"

	"hearth/engine/storetest"
)

func TestConformance(t *testing.T) { storetest.Run(t, storetest.Memory) }
