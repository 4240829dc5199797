// Package tests holds Hearth's tests that cross process boundaries: they build the real
// hearth-server and hearthctl binaries, run them on loopback with temporary data, and check
// what replicas and raw protocol clients see. Unit tests stay beside the code they test.
package tests
