package kafkamesh

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	kcodec "github.com/sluice-proxy/sluice/codec/kafka"
)

// apiRange is an API the mesh serves and its version range.
type apiRange struct {
	key      int16
	min, max int16
}

// supported is what ApiVersions advertises. Minimum versions: Produce 3 and
// Fetch 4 carry record batches (v2) only, so batches pass through unchanged;
// Metadata 1 and OffsetFetch 1 have today's "null means all" meaning;
// OffsetCommit 2 stores offsets in Kafka. Maxima are the upstream clients'
// (Kafka 3.0), so a request re-encoded upstream keeps its fields.
// InitProducerId is answered by the mesh (producer.go).
var supported = func() []apiRange {
	v := upstreamVersions()
	out := []apiRange{}
	for _, k := range []struct{ key, min int16 }{
		{0, 3}, {1, 4}, {2, 1}, {3, 1}, {8, 2}, {9, 1}, {10, 0}, {11, 0}, {12, 0}, {13, 0}, {14, 0}, {18, 0}, {19, 2}, {22, 0},
	} {
		maxV, _ := v.LookupMaxKeyVersion(k.key)
		if km := kcodec.MaxVersion(k.key); km < maxV {
			maxV = km
		}
		out = append(out, apiRange{k.key, k.min, maxV})
	}
	return out
}()

func supportedKey(key int16) (apiRange, bool) {
	for _, r := range supported {
		if r.key == key {
			return r, true
		}
	}
	return apiRange{}, false
}

// apiVersions answers locally. A version above the mesh's gets
// UNSUPPORTED_VERSION in a v0 response listing what it supports, as Kafka
// does, so the client can retry with a version it has in common.
func (mc *meshConn) apiVersions(h *kcodec.RequestHeader, _ []byte) []byte {
	mc.m.stats.Request[kcodec.KeyApiVersions].Inc()
	resp := kmsg.NewPtrApiVersionsResponse()
	sup, _ := supportedKey(kcodec.KeyApiVersions)
	version := h.APIVersion
	if version > sup.max || version < 0 {
		resp.ErrorCode, version = errUnsupportedVersion, 0
	}
	resp.SetVersion(version)
	for _, r := range supported {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = r.key, r.min, r.max
		resp.ApiKeys = append(resp.ApiKeys, k)
	}
	return kcodec.AppendResponseFrame(nil, h.APIKey, version, h.CorrelationID, resp.AppendTo(nil))
}

// meshNode is the node id of the one broker the mesh presents.
const meshNode = 0

func (mc *meshConn) broker() kmsg.MetadataResponseBroker {
	b := kmsg.NewMetadataResponseBroker()
	b.NodeID, b.Host, b.Port = meshNode, mc.m.cfg.AdvertisedHost, int32(mc.m.cfg.AdvertisedPort)
	return b
}

// metadata answers with sluice as the only broker and the partitions of the
// routed topics, asked of their clusters in parallel. A null topic list
// means every routed topic of every cluster.
func (mc *meshConn) metadata(req *kmsg.MetadataRequest) (kmsg.Response, int16) {
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	resp.Brokers = []kmsg.MetadataResponseBroker{mc.broker()}
	resp.ClusterID = kmsg.StringPtr("sluice-kafka-mesh")
	resp.ControllerID = meshNode
	type ask struct {
		u      *upstream
		topics []string // nil: all
		resp   *kmsg.MetadataResponse
		err    error
	}
	var asks []*ask
	byUp := map[*upstream]*ask{}
	if req.Topics == nil {
		for _, u := range mc.m.upstreams {
			asks = append(asks, &ask{u: u})
		}
	}
	for _, t := range req.Topics {
		name := ""
		if t.Topic != nil {
			name = *t.Topic
		}
		u := mc.m.route(name)
		if u == nil {
			mc.m.stats.Unrouted.Inc()
			rt := kmsg.NewMetadataResponseTopic()
			rt.Topic, rt.ErrorCode = kmsg.StringPtr(name), errUnknownTopic
			resp.Topics = append(resp.Topics, rt)
			continue
		}
		a := byUp[u]
		if a == nil {
			a = &ask{u: u, topics: []string{}}
			byUp[u] = a
			asks = append(asks, a)
		}
		a.topics = append(a.topics, name)
	}
	var wg sync.WaitGroup
	for _, a := range asks {
		wg.Add(1)
		mc.s.Go(func() {
			defer wg.Done()
			cl, err := a.u.client(-1)
			if err == nil {
				a.resp, err = a.u.metadata(mc.ctx, cl, a.topics, req.AllowAutoTopicCreation && a.topics != nil)
			}
			a.err = err
		})
	}
	wg.Wait()
	for _, a := range asks {
		if a.err != nil {
			mc.m.stats.Upstream.Inc()
			mc.s.Log.Info("kafka_mesh: metadata failed", "cluster", a.u.name, "err", a.err)
			for _, t := range a.topics {
				rt := kmsg.NewMetadataResponseTopic()
				rt.Topic, rt.ErrorCode = kmsg.StringPtr(t), errLeaderNotAvailable
				resp.Topics = append(resp.Topics, rt)
			}
			continue
		}
		for _, t := range a.resp.Topics {
			if t.Topic == nil || mc.m.route(*t.Topic) != a.u {
				continue // another cluster's topic, or not routed
			}
			resp.Topics = append(resp.Topics, meshTopic(t))
		}
	}
	return resp, 0
}

// meshTopic is an upstream topic with every partition led by the mesh.
func meshTopic(t kmsg.MetadataResponseTopic) kmsg.MetadataResponseTopic {
	out := t
	out.Partitions = make([]kmsg.MetadataResponseTopicPartition, len(t.Partitions))
	for i, p := range t.Partitions {
		p.Leader, p.Replicas, p.ISR, p.OfflineReplicas = meshNode, []int32{meshNode}, []int32{meshNode}, nil
		out.Partitions[i] = p
	}
	return out
}

// findCoordinator names sluice itself as every coordinator: group requests
// come back to the mesh, which forwards them to the group's cluster.
func (mc *meshConn) findCoordinator(req *kmsg.FindCoordinatorRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	resp.NodeID, resp.Host, resp.Port = meshNode, mc.m.cfg.AdvertisedHost, int32(mc.m.cfg.AdvertisedPort)
	keys := req.CoordinatorKeys
	if req.GetVersion() >= 4 && len(keys) == 0 {
		keys = []string{req.CoordinatorKey}
	}
	for _, k := range keys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key, c.NodeID, c.Host, c.Port = k, meshNode, mc.m.cfg.AdvertisedHost, int32(mc.m.cfg.AdvertisedPort)
		resp.Coordinators = append(resp.Coordinators, c)
	}
	return resp
}
