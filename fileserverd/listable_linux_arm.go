package main

import "syscall"

// This file exists because each Linux architecture numbers fstatat its
// own way (listable_linux.go makes the call): 32-bit ARM has fstatat64,
// whose struct stat64 is syscall.Stat_t there.

const fstatatTrap = syscall.SYS_FSTATAT64
