module github.com/cql4/bench-go

go 1.26.8

require (
	github.com/HdrHistogram/hdrhistogram-go v1.4.0
	github.com/apache/cassandra-gocql-driver/v2 v2.1.2
)

require gopkg.in/inf.v0 v0.9.1 // indirect
