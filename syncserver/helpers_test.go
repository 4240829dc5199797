package syncserver_test

import "hearth/syncserver"

func syncserverPull(cursor uint64) syncserver.PullRequest {
	return syncserver.PullRequest{Cursor: cursor, Limit: 1 << 20, Scopes: []string{"*"}}
}
