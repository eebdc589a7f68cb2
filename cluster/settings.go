package cluster

import (
	"fmt"
	"strconv"

	"github.com/acmectl/acmectl/storage"
)

// MarkerParam is the [renewalparams] key a node's local renewal conf carries
// while the lineage is managed by a cluster: the store URL (no credentials).
// certbot keeps unknown keys it does not use; with autorenew = False beside
// it, a leftover certbot timer never renews the lineage on its own.
const MarkerParam = "acmectl_cluster"

// SettingsParam beside MarkerParam is the revision of the shared settings
// the local conf was written from (Meta.SettingsRev).
const SettingsParam = "acmectl_cluster_settings"

// SharedSettings renders conf as the cluster stores it: certbot's text
// without what belongs to one node (the live and archive paths, config_dir,
// work_dir, logs_dir) and without the cluster marker. autorenew keeps the
// lineage's own value.
func SharedSettings(conf *storage.RenewalConf) ([]byte, error) {
	// A copy through text: RenewalConf shares its parsed document when copied.
	b, err := conf.Marshal()
	if err != nil {
		return nil, err
	}
	c, err := storage.ParseRenewalConf("renewal conf", b)
	if err != nil {
		return nil, err
	}
	if _, ok := c.Param(MarkerParam); ok {
		return nil, fmt.Errorf("renewal conf: carries %s: it is a node's copy, not the lineage's own settings", MarkerParam)
	}
	c.DeleteParam(SettingsParam)
	c.ArchiveDir, c.Cert, c.PrivKey, c.Chain, c.Fullchain = "", "", "", "", ""
	c.Params.ConfigDir, c.Params.WorkDir, c.Params.LogsDir = "", "", ""
	return c.Marshal()
}

// ParseSharedSettings parses what SharedSettings wrote.
func ParseSharedSettings(name string, text []byte) (*storage.RenewalConf, error) {
	return storage.ParseRenewalConf("etcd:"+confKey(name), text)
}

// LocalConf is the renewal conf a node writes for a cluster-managed lineage:
// the shared settings with autorenew = False and the marker naming the store.
// The storage writer fills in the node's own paths.
func LocalConf(name string, shared []byte, store string, settingsRev int) (*storage.RenewalConf, error) {
	c, err := ParseSharedSettings(name, shared)
	if err != nil {
		return nil, err
	}
	c.Params.NoAutoRenew = true
	c.SetParam(MarkerParam, storage.Scalar(store))
	c.SetParam(SettingsParam, storage.Scalar(strconv.Itoa(settingsRev)))
	return c, nil
}

// settingsRev is the SettingsParam of a local conf (-1 when absent).
func settingsRev(c *storage.RenewalConf) int {
	v, ok := c.Param(SettingsParam)
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(v.String())
	if err != nil {
		return -1
	}
	return n
}

// HandBack turns a node's copy of the shared settings back into a lineage
// the node renews alone: the shared autorenew value, no marker.
func HandBack(name string, shared []byte) (*storage.RenewalConf, error) {
	c, err := ParseSharedSettings(name, shared)
	if err != nil {
		return nil, err
	}
	c.DeleteParam(MarkerParam)
	c.DeleteParam(SettingsParam)
	return c, nil
}

// IsClusterManaged reports whether a local conf carries the cluster marker,
// and for which store.
func IsClusterManaged(conf *storage.RenewalConf) (store string, ok bool) {
	v, ok := conf.Param(MarkerParam)
	if !ok {
		return "", false
	}
	return v.String(), true
}

// settingsToMeta copies what the due decision needs from the settings.
func settingsToMeta(conf *storage.RenewalConf, m *Meta) {
	m.Server = conf.Params.Server
	m.Account = conf.Params.Account
	m.NoAutoRenew = conf.Params.NoAutoRenew
	m.RenewBeforeExpiry = conf.RenewBeforeExpiry
}
