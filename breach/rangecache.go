package breach

import (
	"container/list"
	"sync"
	"time"
)

// rangeCache keeps the latest answers of the range API by prefix, for a
// while: the least recently used goes first when it is full. A nil
// *rangeCache keeps nothing.
type rangeCache struct {
	size int
	ttl  time.Duration
	now  func() time.Time

	mu      sync.Mutex
	order   *list.List               // of *cachedRange, most recently used first
	byRange map[string]*list.Element // prefix -> element of order
}

// cachedRange is an answer in the cache.
type cachedRange struct {
	prefix  string
	entries rangeEntries
	expires time.Time
}

func newRangeCache(size int, ttl time.Duration, now func() time.Time) *rangeCache {
	return &rangeCache{size: size, ttl: ttl, now: now, order: list.New(), byRange: make(map[string]*list.Element, size)}
}

// get returns the answer kept for prefix, if any and fresh.
func (c *rangeCache) get(prefix string) (rangeEntries, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byRange[prefix]
	if !ok {
		return nil, false
	}
	r := el.Value.(*cachedRange)
	if !c.now().Before(r.expires) {
		c.order.Remove(el)
		delete(c.byRange, prefix)
		return nil, false
	}
	c.order.MoveToFront(el)
	return r.entries, true
}

// put keeps the answer for prefix, dropping the least recently used
// answer when the cache is full.
func (c *rangeCache) put(prefix string, entries rangeEntries) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &cachedRange{prefix: prefix, entries: entries, expires: c.now().Add(c.ttl)}
	if el, ok := c.byRange[prefix]; ok {
		el.Value = r
		c.order.MoveToFront(el)
		return
	}
	c.byRange[prefix] = c.order.PushFront(r)
	if c.order.Len() > c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.byRange, oldest.Value.(*cachedRange).prefix)
	}
}

// len returns the number of answers kept, fresh or not.
func (c *rangeCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
