package kafkamesh

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Idempotent produce through the mesh. A producer id and epoch belong to one
// Kafka cluster, and the mesh fans one client's produce out to several. So
// the mesh answers InitProducerId itself with a mesh producer id (epoch 0),
// and obtains from each cluster the producer first sends to, lazily, a
// producer id of that cluster. Batches are forwarded with their producer id
// and epoch rewritten: mesh id P at epoch e becomes the cluster's id Pc at
// the cluster's epoch Ec+e (a client that bumps its epoch locally, as Java's
// idempotent producer does after a timed-out batch, bumps the cluster's the
// same). Sequence numbers pass unchanged: each partition lives in one
// cluster, and Pc is new there, so the client's per-partition sequences
// (from 0) are exactly what the cluster expects of Pc.
//
// The table outlives reloads (filters.Retained, per listener and stat
// prefix): a client's connections may be accepted by different generations
// of the mesh (franz-go produces on a connection of its own), and each must
// know the producer id another one issued.

// maxProducers bounds the producer table; past it the oldest mesh producer
// ids are forgotten, and their producers get UNKNOWN_PRODUCER_ID, after
// which clients ask for a new id.
const maxProducers = 16384

// producers maps mesh producer ids to their cluster producer ids.
type producers struct {
	mu    sync.Mutex
	next  int64
	byID  map[int64]*producer
	order []int64 // issue order, for eviction; ids already dropped are skipped
}

// producer is one mesh producer id and its ids in the clusters it wrote to,
// by upstream.key (the table outlives the mesh that made it; see New).
type producer struct {
	mu        sync.Mutex // serializes the lazy per-cluster InitProducerId
	byCluster map[string]clusterProducer
}

// clusterProducer is a producer id and epoch of one cluster.
type clusterProducer struct {
	id    int64
	epoch int16
}

func newProducers() *producers {
	// A random start keeps the ids of a mesh rebuilt by a reload (or of a
	// restarted sluice) apart from those its predecessor handed out.
	return &producers{next: rand.Int64N(1 << 62), byID: map[int64]*producer{}}
}

// issue returns a new mesh producer id; prev, when it is one of ours, is
// dropped (the client abandons it).
func (ps *producers) issue(prev int64) int64 {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	delete(ps.byID, prev)
	for len(ps.byID) >= maxProducers && len(ps.order) > 0 {
		delete(ps.byID, ps.order[0])
		ps.order = ps.order[1:]
	}
	if len(ps.order) > 2*maxProducers { // ids dropped by re-inits pile up
		live := ps.order[:0]
		for _, id := range ps.order {
			if ps.byID[id] != nil {
				live = append(live, id)
			}
		}
		ps.order = live
	}
	ps.next++
	id := ps.next
	ps.byID[id] = &producer{byCluster: map[string]clusterProducer{}}
	ps.order = append(ps.order, id)
	return id
}

func (ps *producers) get(id int64) *producer {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.byID[id]
}

// initProducerID answers InitProducerId locally. Transactions are not
// served: a transactional id is refused, since a transaction cannot span
// clusters.
func (mc *meshConn) initProducerID(req *kmsg.InitProducerIDRequest) (kmsg.Response, int16) {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	if req.TransactionalID != nil {
		resp.ErrorCode, resp.ProducerID, resp.ProducerEpoch = kerr.TransactionalIDAuthorizationFailed.Code, -1, -1
		return resp, 0
	}
	resp.ProducerID, resp.ProducerEpoch = mc.m.producers.issue(req.ProducerID), 0
	return resp, 0
}

// clusterID returns the producer id of p in cluster u, asking the cluster
// for one on first use.
func (mc *meshConn) clusterID(p *producer, u *upstream) (clusterProducer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cp, ok := p.byCluster[u.key]; ok {
		return cp, nil
	}
	cl, err := u.client(-1)
	if err != nil {
		return clusterProducer{}, err
	}
	req := kmsg.NewPtrInitProducerIDRequest()
	req.ProducerID, req.ProducerEpoch = -1, -1
	ctx, cancel := context.WithTimeout(mc.ctx, u.timeout)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return clusterProducer{}, fmt.Errorf("init producer id in %s: %w", u.name, err)
	}
	if resp.ErrorCode != 0 {
		return clusterProducer{}, fmt.Errorf("init producer id in %s: %w", u.name, kerr.ErrorForCode(resp.ErrorCode))
	}
	cp := clusterProducer{id: resp.ProducerID, epoch: resp.ProducerEpoch}
	p.byCluster[u.key] = cp
	return cp, nil
}

// toCluster rewrites the producer id and epoch of the idempotent batches in
// records (one partition's, bound for u) from the mesh's to u's. It returns
// 0, or the error code to answer the partition with.
func (mc *meshConn) toCluster(u *upstream, records []byte) int16 {
	last := int64(-1)
	var cp clusterProducer
	return rewriteProducer(records, func(id int64, epoch int16) (int64, int16, int16) {
		if id != last { // one producer per partition's records in practice
			p := mc.m.producers.get(id)
			if p == nil {
				return 0, 0, kerr.UnknownProducerID.Code
			}
			var err error
			if cp, err = mc.clusterID(p, u); err != nil {
				mc.m.stats.Upstream.Inc()
				mc.s.Log.Info("kafka_mesh: no producer id", "cluster", u.name, "err", err)
				return 0, 0, errNetwork
			}
			last = id
		}
		e := int32(cp.epoch) + int32(epoch)
		if epoch < 0 || e > 32767 {
			return 0, 0, kerr.UnknownProducerID.Code // out of epochs: the client takes a new id
		}
		return cp.id, int16(e), 0
	})
}
