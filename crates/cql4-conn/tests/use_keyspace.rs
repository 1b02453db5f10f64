//! `Client::use_keyspace` against a server that refuses QUORUM, ALL and ANY (Amazon
//! Keyspaces): it runs at LOCAL_ONE whatever the default consistency.

use cql4_conn::Client;
use cql4_frame::Consistency;
use cql4_testkit::emulated::{EmulatedCluster, USER_KEYSPACE};

#[tokio::test]
async fn use_keyspace_runs_at_local_one_with_a_quorum_default() {
    let cluster = EmulatedCluster::builder()
        .nodes(1)
        .keyspaces_consistency()
        .start()
        .await;
    let mut config = cluster.config();
    config.default_consistency = Consistency::QUORUM;
    let client = Client::connect(&config).await.expect("connect");
    client
        .use_keyspace(USER_KEYSPACE)
        .await
        .expect("USE at LOCAL_ONE");
    assert!(cluster.requests_at(Consistency::QUORUM).is_empty());
    let plain = client
        .query(&format!("USE {USER_KEYSPACE}"), (), &Default::default())
        .await;
    assert!(
        plain.is_err(),
        "the same USE at the QUORUM default is refused"
    );
}
