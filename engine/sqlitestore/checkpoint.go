//go:build !js

package sqlitestore

import (
	"database/sql"
	"fmt"
	"net/url"
	"time"
)

// SQLite checkpoints a WAL file by default in the commit that grows it past 1,000 pages, and a
// checkpoint syncs the database file: on a slow disk that one commit, and every writer queued
// behind it, waits for the disk for up to a second or more (measured in the Monday-spike
// benchmark: p99 from 0.1 s on tmpfs to 0.6-1.6 s on the VM's disk). So the writer never
// checkpoints; a connection of its own does, every CheckpointEvery, in PASSIVE mode, which
// waits for no reader or writer: commits go on appending to the WAL meanwhile.

// startCheckpoints turns the writer's automatic checkpoints off and starts the checkpointer.
func (db *DB) startCheckpoints(path string, q url.Values, every time.Duration) error {
	if _, err := db.w.Exec(`PRAGMA wal_autocheckpoint = 0`); err != nil {
		return fmt.Errorf("turn off automatic checkpoints: %w", err)
	}
	c, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("open checkpointer: %w", err)
	}
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	db.ck, db.ckStop, db.ckDone = c, make(chan struct{}), make(chan struct{})
	go func() {
		defer close(db.ckDone)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-db.ckStop:
				return
			case <-t.C:
				// A failed checkpoint (the disk is full, say) leaves the frames in the WAL,
				// where readers still find them; the next tick tries again.
				if _, err := c.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err == nil {
					db.checkpoints.Add(1)
				}
			}
		}
	}()
	return nil
}

// stopCheckpoints ends the checkpointer; closing the last connection checkpoints what is left.
func (db *DB) stopCheckpoints() error {
	if db.ck == nil {
		return nil
	}
	var err error
	db.ckOnce.Do(func() { // Close may be called more than once
		close(db.ckStop)
		<-db.ckDone
		err = db.ck.Close()
	})
	return err
}
