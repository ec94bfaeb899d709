package main

import "syscall"

// This file exists because each Linux architecture numbers fstatat its
// own way (listable_linux.go makes the call).

const fstatatTrap = syscall.SYS_NEWFSTATAT
