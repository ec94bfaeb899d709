//go:build !linux

package stress

// treeHelperEnv and treeHelperMain: the process-tree helper of the
// server cost's tests exists on Linux only (treehelper_linux_test.go).
const treeHelperEnv = "FILESTRESSD_TREE_HELPER"

func treeHelperMain() int { return 2 }
