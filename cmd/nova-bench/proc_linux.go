package main

import "syscall"

// childProcAttr ties a child's life to this process: if the bench dies
// without cleaning up (a panic, SIGKILL), Linux sends the child SIGTERM, so
// no Nova or baseline server is left listening.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
