package e2e

import "syscall"

// childProcAttr ties a child's life to this process: if the caller dies
// without cleaning up (a panic, SIGKILL), Linux sends the child SIGTERM.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
