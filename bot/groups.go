package bot

import (
	"context"
	"sync"
	"time"
)

// groupCache keeps Slack user-group members briefly: admin and approver
// checks happen on every click.
type groupCache struct {
	mu     sync.Mutex
	maxAge time.Duration
	items  map[string]cachedGroup
}

type cachedGroup struct {
	members []string
	at      time.Time
}

func newGroupCache(maxAge time.Duration) *groupCache {
	return &groupCache{maxAge: maxAge, items: map[string]cachedGroup{}}
}

func (c *groupCache) members(ctx context.Context, envs Environments, env, group string, now time.Time) ([]string, error) {
	key := env + "/" + group
	c.mu.Lock()
	g, ok := c.items[key]
	c.mu.Unlock()
	if ok && now.Sub(g.at) < c.maxAge {
		return g.members, nil
	}
	chat, err := envs.Chat(env)
	if err != nil {
		return nil, err
	}
	members, err := chat.GroupMembers(ctx, group)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.items[key] = cachedGroup{members: members, at: now}
	c.mu.Unlock()
	return members, nil
}
