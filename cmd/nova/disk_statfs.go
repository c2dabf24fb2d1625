//go:build linux || darwin || freebsd

package main

import "syscall"

// freeBytes returns the space available to Nova on the filesystem of dir.
func freeBytes(dir string) (uint64, bool, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, true, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true, nil
}
