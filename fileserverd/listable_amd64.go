package main

import "syscall"

const fstatatTrap = syscall.SYS_NEWFSTATAT
