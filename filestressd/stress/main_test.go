package stress

import (
	"os"
	"testing"

	"fileserver/protocol/testkit"
)

// stressBin is filestressd, built once for the whole run: the process
// pool's tests run it as their children. TestMain builds fileserverd too,
// for testkit.StartServer.
var stressBin string

func TestMain(m *testing.M) {
	if os.Getenv(treeHelperEnv) != "" { // a helper of the server cost's tests
		os.Exit(treeHelperMain())
	}
	if bin, ok := os.LookupEnv(envStandInParent); ok {
		os.Exit(runStandInParent(bin, os.Getenv(envStandInSpec)))
	}
	testkit.Main(m,
		testkit.Binary{Pkg: testkit.ServerPkg},
		testkit.Binary{Pkg: "fileserver/filestressd", Flags: testkit.RaceFlags(), Path: &stressBin})
}
