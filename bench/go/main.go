// Command gocql-bench is the end-to-end client for gocql (apache/cassandra-gocql-driver v2):
// it prepares the benchmark select and insert (gocql prepares a query with arguments on first
// use and caches it), keeps -concurrency requests in flight for a warm-up and a measured window,
// and prints one JSON record in the format of cql4-bench's Record.
//
// With -session (cargo xtask bench --session) it is the session benchmark's gocql: contact
// point -host, discovery on and the driver's default pool and host selection policy, TLS
// against -ca (certificate and -server-name checked) and a PasswordAuthenticator login
// (-user, and the password in CQL4_BENCH_PASSWORD so it is not on the command line).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

const selectID = 42

type record struct {
	Driver        string  `json:"driver"`
	DriverVersion string  `json:"driver_version"`
	Workload      string  `json:"workload"`
	Concurrency   int     `json:"concurrency"`
	Pool          string  `json:"pool"`
	Requests      int64   `json:"requests"`
	Errors        int64   `json:"errors"`
	Seconds       float64 `json:"seconds"`
	Throughput    float64 `json:"throughput"`
	P50           float64 `json:"p50_us"`
	P99           float64 `json:"p99_us"`
	P999          float64 `json:"p999_us"`
	CPUPerReq     float64 `json:"cpu_us_per_req"`
	MaxRSSKB      int64   `json:"maxrss_kb"`
	Note          string  `json:"note"`
}

func rusage() (float64, int64) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime), ru.Maxrss
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "github.com/apache/cassandra-gocql-driver/v2" {
				return d.Version
			}
		}
	}
	return "unknown"
}

func main() {
	host := flag.String("host", "127.0.0.1", "node address")
	port := flag.Int("port", 19042, "native protocol port")
	workload := flag.String("workload", "select", "select or insert")
	concurrency := flag.Int("concurrency", 1, "requests in flight")
	pool := flag.String("pool", "one", "one (NumConns=1) or default")
	warmup := flag.Float64("warmup", 2, "warm-up seconds")
	duration := flag.Float64("duration", 5, "measured seconds")
	sessionMode := flag.Bool("session", false, "the session benchmark: discovery, default pool and policy")
	keyspace := flag.String("keyspace", "bench", "keyspace of table t")
	ca := flag.String("ca", "", "CA file (PEM): connect with TLS")
	serverName := flag.String("server-name", "", "name the node's certificate must carry")
	user := flag.String("user", "", "PasswordAuthenticator user (password in CQL4_BENCH_PASSWORD)")
	flag.Parse()
	selectCQL := fmt.Sprintf("SELECT id, name, payload FROM %s.t WHERE id = ?", *keyspace)
	insertCQL := fmt.Sprintf("INSERT INTO %s.t (id, name, payload) VALUES (?, ?, ?)", *keyspace)

	cluster := gocql.NewCluster(*host)
	cluster.Port = *port
	cluster.ProtoVersion = 4
	cluster.Timeout = 10 * time.Second
	note := "driver's default pool"
	if *sessionMode {
		*pool = "default"
		note = "session, defaults (discovery, default pool and host selection policy)"
	} else if *pool == "one" {
		cluster.NumConns = 1
		note = "NumConns=1"
	}
	if *ca != "" {
		pem, err := os.ReadFile(*ca)
		if err != nil {
			fmt.Fprintln(os.Stderr, "read -ca:", err)
			os.Exit(2)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			fmt.Fprintln(os.Stderr, "-ca holds no PEM certificate")
			os.Exit(2)
		}
		cluster.SslOpts = &gocql.SslOptions{
			Config:                 &tls.Config{RootCAs: roots, ServerName: *serverName},
			EnableHostVerification: true,
		}
	}
	if *user != "" {
		cluster.Authenticator = gocql.PasswordAuthenticator{
			Username: *user,
			Password: os.Getenv("CQL4_BENCH_PASSWORD"),
		}
	}
	session, err := cluster.CreateSession()
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
	defer session.Close()
	payload := make([]byte, 100)
	for i := range payload {
		payload[i] = byte(i)
	}

	op := func(i int64) error {
		if *workload == "select" {
			var id int
			var name string
			var p []byte
			if err := session.Query(selectCQL, selectID).Scan(&id, &name, &p); err != nil {
				return err
			}
			if id != selectID || name == "" || len(p) != 100 {
				return fmt.Errorf("unexpected row (%d, %q, %d bytes)", id, name, len(p))
			}
			return nil
		}
		return session.Query(insertCQL, 1000+int(i%100000), "name-inserted", payload).Exec()
	}

	var measuring, stop atomic.Bool
	var errors atomic.Int64
	// One histogram behind a mutex: a per-goroutine HDR histogram would dominate the peak
	// RSS at 1,024 in flight.
	var histMu sync.Mutex
	hist := hdrhistogram.New(1, 60_000_000_000, 3)
	counts := make([]int64, *concurrency)
	var wg sync.WaitGroup
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			i := int64(w)
			for !stop.Load() {
				t := time.Now()
				err := op(i)
				ns := time.Since(t).Nanoseconds()
				i += int64(*concurrency)
				if err != nil {
					errors.Add(1)
					fmt.Fprintln(os.Stderr, "request failed:", err)
					if !measuring.Load() {
						stop.Store(true)
					}
					continue
				}
				if measuring.Load() && !stop.Load() {
					histMu.Lock()
					_ = hist.RecordValue(ns)
					histMu.Unlock()
					counts[w]++
				}
			}
		}(w)
	}
	time.Sleep(time.Duration(*warmup * float64(time.Second)))
	cpu0, _ := rusage()
	t0 := time.Now()
	measuring.Store(true)
	time.Sleep(time.Duration(*duration * float64(time.Second)))
	stop.Store(true)
	seconds := time.Since(t0).Seconds()
	cpu1, _ := rusage()
	wg.Wait()
	_, maxrss := rusage()
	all := hist
	var requests int64
	for w := range counts {
		requests += counts[w]
	}
	n := float64(requests)
	if n == 0 {
		n = 1
	}
	q := func(p float64) float64 { return float64(all.ValueAtQuantile(p)) / 1000 }
	rec := record{
		Driver: "gocql", DriverVersion: version(), Workload: *workload,
		Concurrency: *concurrency, Pool: *pool, Requests: requests, Errors: errors.Load(),
		Seconds: seconds, Throughput: float64(requests) / seconds,
		P50: q(50), P99: q(99), P999: q(99.9),
		CPUPerReq: (cpu1 - cpu0) * 1e6 / n, MaxRSSKB: maxrss, Note: note,
	}
	out, _ := json.Marshal(rec)
	fmt.Println(string(out))
	if requests == 0 || errors.Load() > 0 {
		os.Exit(1)
	}
}
