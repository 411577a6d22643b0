package kafkamesh

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetch splits the request per cluster and partition leader, as a
// sessionless full fetch (the mesh answers session id 0, so clients never
// start incremental sessions it would have to split), and merges the answers.
// Parts wait in parallel, so the answer takes at most the client's MaxWait.
func (mc *meshConn) fetch(req *kmsg.FetchRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	failed := func(topic string, partitions []int32, code int16) {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = topic
		for _, p := range partitions {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition, rp.ErrorCode, rp.HighWatermark, rp.LastStableOffset = p, code, -1, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	pid := func(p kmsg.FetchRequestTopicPartition) int32 { return p.Partition }
	parts := map[leaderKey]*kmsg.FetchRequest{}
	var order []leaderKey
	for _, t := range req.Topics {
		u := mc.m.route(t.Topic)
		if u == nil {
			mc.m.stats.Unrouted.Inc()
			failed(t.Topic, partitionsOf(t.Partitions, pid), errUnknownTopic)
			continue
		}
		cl, err := u.client(-1)
		if err != nil {
			failed(t.Topic, partitionsOf(t.Partitions, pid), errNetwork)
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
			k := leaderKey{u, l}
			sub := parts[k]
			if sub == nil {
				sub = kmsg.NewPtrFetchRequest()
				sub.MaxWaitMillis, sub.MinBytes, sub.MaxBytes = req.MaxWaitMillis, req.MinBytes, req.MaxBytes
				sub.IsolationLevel, sub.Rack = req.IsolationLevel, req.Rack
				sub.SessionID, sub.SessionEpoch = 0, -1
				parts[k] = sub
				order = append(order, k)
			}
			if n := len(sub.Topics); n == 0 || sub.Topics[n-1].Topic != t.Topic {
				st := kmsg.NewFetchRequestTopic()
				st.Topic, st.TopicID = t.Topic, t.TopicID
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
	own := map[*upstream]*kgo.Client{}
	for _, k := range order {
		cl, err := mc.ownClient(k.u)
		if err != nil {
			cl, _ = k.u.client(-1)
		}
		own[k.u] = cl
	}
	results := make([]*kmsg.FetchResponse, len(order))
	var wg sync.WaitGroup
	for i, k := range order {
		wg.Add(1)
		mc.s.Go(func() {
			defer wg.Done()
			cl := own[k.u]
			r, err := cl.Broker(int(k.leader)).Request(mc.ctx, parts[k])
			if err != nil {
				mc.m.stats.Upstream.Inc()
				mc.s.Log.Info("kafka_mesh: fetch failed", "cluster", k.u.name, "broker", k.leader, "err", err)
				return
			}
			results[i] = r.(*kmsg.FetchResponse)
		})
	}
	wg.Wait()
	for i, k := range order {
		r := results[i]
		if r == nil {
			for _, t := range parts[k].Topics {
				k.u.forget(t.Topic)
				failed(t.Topic, partitionsOf(t.Partitions, pid), errNetwork)
			}
			continue
		}
		resp.ThrottleMillis = max(resp.ThrottleMillis, r.ThrottleMillis)
		if r.ErrorCode != 0 { // a request-level error (a session problem): per partition for the client
			for _, t := range parts[k].Topics {
				failed(t.Topic, partitionsOf(t.Partitions, pid), r.ErrorCode)
			}
			continue
		}
		for _, t := range r.Topics {
			for j := range t.Partitions {
				t.Partitions[j].PreferredReadReplica = -1 // followers are not reachable through the mesh
				if isLeadershipError(t.Partitions[j].ErrorCode) {
					k.u.forget(t.Topic)
				}
			}
			resp.Topics = append(resp.Topics, t)
		}
	}
	return resp
}

// listOffsets splits the request per cluster; kgo shards each part by
// partition leader.
func (mc *meshConn) listOffsets(req *kmsg.ListOffsetsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	byUp := map[*upstream]*kmsg.ListOffsetsRequest{}
	var order []*upstream
	for _, t := range req.Topics {
		u := mc.m.route(t.Topic)
		if u == nil {
			mc.m.stats.Unrouted.Inc()
			resp.Topics = append(resp.Topics, listOffsetsError(t, errUnknownTopic))
			continue
		}
		sub := byUp[u]
		if sub == nil {
			sub = kmsg.NewPtrListOffsetsRequest()
			sub.ReplicaID, sub.IsolationLevel = req.ReplicaID, req.IsolationLevel
			byUp[u] = sub
			order = append(order, u)
		}
		sub.Topics = append(sub.Topics, t)
	}
	for _, u := range order {
		r, err := mc.forward(u, byUp[u])
		if err != nil {
			for _, t := range byUp[u].Topics {
				resp.Topics = append(resp.Topics, listOffsetsError(t, errNetwork))
			}
			continue
		}
		lr := r.(*kmsg.ListOffsetsResponse)
		resp.ThrottleMillis = max(resp.ThrottleMillis, lr.ThrottleMillis)
		resp.Topics = append(resp.Topics, lr.Topics...)
	}
	return resp
}

// listOffsetsError answers every partition of t with code.
func listOffsetsError(t kmsg.ListOffsetsRequestTopic, code int16) kmsg.ListOffsetsResponseTopic {
	rt := kmsg.NewListOffsetsResponseTopic()
	rt.Topic = t.Topic
	for _, p := range t.Partitions {
		rp := kmsg.NewListOffsetsResponseTopicPartition()
		rp.Partition, rp.ErrorCode = p.Partition, code
		rt.Partitions = append(rt.Partitions, rp)
	}
	return rt
}

// createTopics splits the request per cluster.
func (mc *meshConn) createTopics(req *kmsg.CreateTopicsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	byUp := map[*upstream]*kmsg.CreateTopicsRequest{}
	var order []*upstream
	fail := func(topic string, code int16) {
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic, rt.ErrorCode = topic, code
		resp.Topics = append(resp.Topics, rt)
	}
	for _, t := range req.Topics {
		u := mc.m.route(t.Topic)
		if u == nil {
			mc.m.stats.Unrouted.Inc()
			fail(t.Topic, errUnknownTopic)
			continue
		}
		sub := byUp[u]
		if sub == nil {
			sub = kmsg.NewPtrCreateTopicsRequest()
			sub.TimeoutMillis, sub.ValidateOnly = req.TimeoutMillis, req.ValidateOnly
			byUp[u] = sub
			order = append(order, u)
		}
		sub.Topics = append(sub.Topics, t)
	}
	for _, u := range order {
		r, err := mc.forward(u, byUp[u])
		if err != nil {
			for _, t := range byUp[u].Topics {
				fail(t.Topic, errNetwork)
			}
			continue
		}
		cr := r.(*kmsg.CreateTopicsResponse)
		for _, t := range cr.Topics {
			u.forget(t.Topic)
		}
		resp.Topics = append(resp.Topics, cr.Topics...)
	}
	return resp
}

// forward sends req to cluster u with kgo's routing (controller, coordinator
// or sharding by leader, by request kind), through the shared client.
func (mc *meshConn) forward(u *upstream, req kmsg.Request) (kmsg.Response, error) {
	return mc.forwardWith(u, req, u.client)
}

// forwardWith is forward through the client get returns.
func (mc *meshConn) forwardWith(u *upstream, req kmsg.Request, get func(int16) (*kgo.Client, error)) (kmsg.Response, error) {
	cl, err := get(-1)
	if err != nil {
		return nil, err
	}
	r, err := cl.Request(mc.ctx, req)
	if err != nil {
		mc.m.stats.Upstream.Inc()
		mc.s.Log.Info("kafka_mesh: upstream request failed", "cluster", u.name, "api", req.Key(), "err", err)
	}
	return r, err
}
