package db

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

func TestPoolSizedToLoad(t *testing.T) {
	const url = "postgres://u:p@127.0.0.1:5432/d"
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	sizeToLoad(cfg, url)
	if cfg.MinConns != 0 || cfg.MaxConnIdleTime != PoolIdleTime || cfg.HealthCheckPeriod != poolCheckPeriod ||
		cfg.MaxConnLifetime != poolLifetime || cfg.MaxConnLifetimeJitter != poolLifetimeJitter {
		t.Errorf("pool: min %d, idle %s, check %s, lifetime %s+%s; want 0, %s, %s, %s+%s", cfg.MinConns, cfg.MaxConnIdleTime,
			cfg.HealthCheckPeriod, cfg.MaxConnLifetime, cfg.MaxConnLifetimeJitter, PoolIdleTime, poolCheckPeriod, poolLifetime, poolLifetimeJitter)
	}
	// pgxpool's own default keeps idle connections for 30 minutes.
	if PoolIdleTime >= 30*time.Minute || poolCheckPeriod >= PoolIdleTime {
		t.Errorf("idle time %s, check period %s: idle connections would stay open", PoolIdleTime, poolCheckPeriod)
	}
}

func TestPoolParametersOfTheURLWin(t *testing.T) {
	const url = "postgres://u:p@127.0.0.1:5432/d?pool_min_conns=3&pool_max_conn_idle_time=10m"
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	sizeToLoad(cfg, url)
	if cfg.MinConns != 3 || cfg.MaxConnIdleTime != 10*time.Minute {
		t.Errorf("pool: min %d, idle %s; want the URL's 3 and 10m", cfg.MinConns, cfg.MaxConnIdleTime)
	}
	if cfg.HealthCheckPeriod != poolCheckPeriod {
		t.Errorf("health check period %s, want %s (the URL does not set it)", cfg.HealthCheckPeriod, poolCheckPeriod)
	}
}
