package proxy

import (
	"errors"
	"reflect"

	"github.com/sluice-proxy/sluice/config"
)

// ApplyClusters makes the server run cfg when cfg's listeners are the
// running ones: only the clusters change (their endpoints move in place, as
// discovery moves them), no filter chain is rebuilt and no listener is
// touched, so filters holding upstream state (redis_proxy's pools) keep it.
// It reports false, changing nothing, when the listeners differ: the caller
// applies cfg with Apply. The xDS client uses it for EDS and CDS updates.
func (s *Server) ApplyClusters(cfg *config.Config) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false, errors.New("server is shut down")
	}
	cur := s.cfg.Load()
	if cur == nil || !reflect.DeepEqual(cur.Listeners, cfg.Listeners) ||
		!reflect.DeepEqual(cur.OverloadManager, cfg.OverloadManager) {
		return false, nil
	}
	s.Clusters.Apply(cfg.Clusters)
	s.cfg.Store(cfg)
	return true, nil
}
