package kafkamesh

import (
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// group forwards a consumer-group request to the coordinator of the group's
// cluster (kgo finds it). The cluster is a group_routing rule's, or the one
// whose topics the group named in JoinGroup's consumer protocol metadata or
// in OffsetCommit/OffsetFetch, remembered for the group's later requests
// (SyncGroup, Heartbeat, LeaveGroup name no topics). A group the mesh cannot
// place gets COORDINATOR_NOT_AVAILABLE, which clients retry.
func (mc *meshConn) group(req kmsg.Request) (kmsg.Response, int16) {
	var group string
	var topics []string
	switch r := req.(type) {
	case *kmsg.JoinGroupRequest:
		group = r.Group
		for _, p := range r.Protocols {
			var meta kmsg.ConsumerMemberMetadata
			if err := meta.ReadFrom(p.Metadata); err == nil {
				topics = append(topics, meta.Topics...)
			}
		}
	case *kmsg.SyncGroupRequest:
		group = r.Group
	case *kmsg.HeartbeatRequest:
		group = r.Group
	case *kmsg.LeaveGroupRequest:
		group = r.Group
	case *kmsg.OffsetCommitRequest:
		group = r.Group
		for _, t := range r.Topics {
			topics = append(topics, t.Topic)
		}
	case *kmsg.OffsetFetchRequest:
		group = r.Group
		for _, t := range r.Topics {
			topics = append(topics, t.Topic)
		}
		if len(r.Groups) > 0 {
			group = r.Groups[0].Group
			for _, t := range r.Groups[0].Topics {
				topics = append(topics, t.Topic)
			}
		}
	default:
		return nil, errUnsupportedVersion
	}
	u := mc.m.groupCluster(group, topics)
	if u == nil {
		return nil, errCoordinatorNotAvail
	}
	resp, err := mc.forwardWith(u, req, func(int16) (*kgo.Client, error) { return mc.ownClient(u) })
	if err != nil {
		return nil, errCoordinatorNotAvail
	}
	return resp, 0
}
