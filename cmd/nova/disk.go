package main

import (
	"context"
	"path/filepath"

	"github.com/novasre/nova"
	"github.com/novasre/nova/config"
	"github.com/novasre/nova/web"
)

// diskCheck makes /readyz fail while the filesystem holding the bolt store
// has less than store.min_free_disk available: a full disk makes every
// write fail, so the replica should stop taking deliveries (PagerDuty
// retries them) instead of answering them with errors. Redis keeps its
// data elsewhere; its own monitoring covers its disk.
func diskCheck(cfg *config.Config) []web.ReadyCheck {
	if cfg.Store.Backend != "bolt" || cfg.Store.MinFreeDisk <= 0 {
		return nil
	}
	dir := filepath.Dir(cfg.Store.Path)
	minFree := cfg.Store.MinFreeDisk
	return []web.ReadyCheck{func(context.Context) error {
		free, ok, err := freeBytes(dir)
		if err != nil {
			return nova.WrapError(nova.EUNAVAILABLE, err, "cannot measure free disk space for the store")
		}
		if ok && free < uint64(minFree) {
			return nova.Errorf(nova.EUNAVAILABLE, "disk nearly full: %s free for the store, below store.min_free_disk %s",
				config.ByteSize(free).String(), minFree.String())
		}
		return nil
	}}
}
