package wstransport

import (
	"fmt"
	"net/url"
	"strings"
)

// SyncURL turns a server's base address (http, https, ws or wss, as a person types it in
// settings) into the WebSocket endpoint of one tenant's sync.
func SyncURL(server, tenant string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(server))
	if err != nil {
		return "", fmt.Errorf("server address %q: %v", server, err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("server address %q: want http://HOST:PORT (or https, ws, wss)", server)
	}
	if u.Host == "" {
		return "", fmt.Errorf("server address %q has no host", server)
	}
	if tenant == "" || strings.ContainsAny(tenant, "/?#%") {
		return "", fmt.Errorf("clinic id %q is not valid", tenant)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/tenants/" + tenant + "/sync"
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}
