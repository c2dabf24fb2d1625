//go:build !linux

package main

import "syscall"

// childProcAttr is empty where there is no parent-death signal; children
// still stop at cleanup and the baseline ends after its maximum lifetime.
func childProcAttr() *syscall.SysProcAttr { return nil }
