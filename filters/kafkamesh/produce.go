package kafkamesh

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// leaderKey is one partition leader of one cluster: the unit a Produce or
// Fetch is split into.
type leaderKey struct {
	u      *upstream
	leader int32
}

// isLeadershipError reports codes after which cached leaders are stale.
func isLeadershipError(code int16) bool {
	return code == errNotLeader || code == errUnknownTopic || code == errLeaderNotAvailable || code == errFencedOrUnknownEpoch
}

// produce splits the request per cluster and partition leader, sends the
// parts in parallel and merges the answers. Partitions that cannot be sent
// get a retriable error, so the client refreshes metadata and retries.
func (mc *meshConn) produce(req *kmsg.ProduceRequest) (kmsg.Response, int16) {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	failed := func(topic string, partitions []int32, code int16) {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = topic
		for _, p := range partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p, code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	parts := map[leaderKey]*kmsg.ProduceRequest{}
	var order []leaderKey
	for _, t := range req.Topics {
		u := mc.m.route(t.Topic)
		if u == nil {
			mc.m.stats.Unrouted.Inc()
			failed(t.Topic, partitionsOf(t.Partitions, func(p kmsg.ProduceRequestTopicPartition) int32 { return p.Partition }), errUnknownTopic)
			continue
		}
		cl, err := u.client(req.Acks)
		if err != nil {
			failed(t.Topic, partitionsOf(t.Partitions, func(p kmsg.ProduceRequestTopicPartition) int32 { return p.Partition }), errNetwork)
			continue
		}
		leaders := u.leaders(mc.ctx, cl, []string{t.Topic})[t.Topic]
		var lost []int32
		for _, p := range t.Partitions {
			l, ok := leaders[p.Partition]
			if !ok || l < 0 {
				lost = append(lost, p.Partition)
				continue
			}
			if code := mc.toCluster(u, p.Records); code != 0 {
				failed(t.Topic, []int32{p.Partition}, code)
				continue
			}
			k := leaderKey{u, l}
			sub := parts[k]
			if sub == nil {
				sub = kmsg.NewPtrProduceRequest()
				sub.TransactionID, sub.Acks, sub.TimeoutMillis = req.TransactionID, req.Acks, req.TimeoutMillis
				parts[k] = sub
				order = append(order, k)
			}
			if n := len(sub.Topics); n == 0 || sub.Topics[n-1].Topic != t.Topic {
				st := kmsg.NewProduceRequestTopic()
				st.Topic = t.Topic
				sub.Topics = append(sub.Topics, st)
			}
			st := &sub.Topics[len(sub.Topics)-1]
			st.Partitions = append(st.Partitions, p)
		}
		if len(lost) > 0 {
			u.forget(t.Topic)
			failed(t.Topic, lost, errLeaderNotAvailable)
		}
	}
	results := make([]*kmsg.ProduceResponse, len(order))
	var wg sync.WaitGroup
	for i, k := range order {
		wg.Add(1)
		mc.s.Go(func() {
			defer wg.Done()
			cl, _ := k.u.client(req.Acks) // built above
			r, err := cl.Broker(int(k.leader)).Request(mc.ctx, parts[k])
			if err != nil {
				mc.m.stats.Upstream.Inc()
				mc.s.Log.Info("kafka_mesh: produce failed", "cluster", k.u.name, "broker", k.leader, "err", err)
				return
			}
			results[i] = r.(*kmsg.ProduceResponse)
		})
	}
	wg.Wait()
	if req.Acks == 0 {
		return nil, 0
	}
	for i, k := range order {
		r := results[i]
		if r == nil {
			for _, t := range parts[k].Topics {
				k.u.forget(t.Topic)
				failed(t.Topic, partitionsOf(t.Partitions, func(p kmsg.ProduceRequestTopicPartition) int32 { return p.Partition }), errNetwork)
			}
			continue
		}
		resp.ThrottleMillis = max(resp.ThrottleMillis, r.ThrottleMillis)
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				if isLeadershipError(p.ErrorCode) {
					k.u.forget(t.Topic)
				}
			}
			resp.Topics = append(resp.Topics, t)
		}
	}
	return resp, 0
}

func partitionsOf[T any](ps []T, id func(T) int32) []int32 {
	out := make([]int32, len(ps))
	for i, p := range ps {
		out[i] = id(p)
	}
	return out
}
