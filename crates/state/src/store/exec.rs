//! The exec session registry and network attachments: per-container indexes.

use std::collections::BTreeMap;

use corral_define::{ExecSession, PerNetworkOptions};

use super::{Store, check_id, decode, entry_of, get, link, linked, non_empty, put};
use crate::error::{ObjectKind, Result, StateError};
use crate::kv::{Backend, KvRead, Table};
use crate::traits::{ExecSessionStore, NetworkAttachments};

impl<B: Backend> ExecSessionStore for Store<B> {
    fn get_exec_session(&self, id: &str) -> Result<String> {
        self.read(|r, _| {
            non_empty("exec session ID", id)?;
            get(r, Table::Exec, id)?.ok_or_else(|| StateError::NoSuchExecSession(id.to_owned()))
        })
    }

    fn add_exec_session(&self, ctr_id: &str, session: &ExecSession) -> Result<()> {
        self.write(|w, ns| {
            check_id("exec session ID", &session.id)?;
            if session.container_id != ctr_id {
                return Err(StateError::InvalidArg(format!(
                    "exec session {} belongs to container {:?}, not {ctr_id:?}",
                    session.id, session.container_id
                )));
            }
            entry_of(w, ns, ctr_id, ObjectKind::Container)?;
            if w.get(Table::Exec, &session.id)?.is_some() {
                return Err(StateError::ExecSessionExists(session.id.clone()));
            }
            put(w, Table::Exec, &session.id, &ctr_id)?;
            w.put(Table::CtrExec, &link(ctr_id, &session.id), Vec::new())
        })
    }

    fn remove_exec_session(&self, id: &str) -> Result<()> {
        self.write(|w, _| {
            non_empty("exec session ID", id)?;
            let ctr_id: String =
                get(w, Table::Exec, id)?.ok_or_else(|| StateError::NoSuchExecSession(id.to_owned()))?;
            w.delete(Table::Exec, id)?;
            w.delete(Table::CtrExec, &link(&ctr_id, id))
        })
    }

    fn get_container_exec_sessions(&self, ctr_id: &str) -> Result<Vec<String>> {
        self.read(|r, ns| {
            entry_of(r, ns, ctr_id, ObjectKind::Container)?;
            linked(r, Table::CtrExec, ctr_id)
        })
    }

    fn remove_container_exec_sessions(&self, ctr_id: &str) -> Result<()> {
        self.write(|w, ns| {
            entry_of(w, ns, ctr_id, ObjectKind::Container)?;
            for session in linked(w, Table::CtrExec, ctr_id)? {
                w.delete(Table::Exec, &session)?;
                w.delete(Table::CtrExec, &link(ctr_id, &session))?;
            }
            Ok(())
        })
    }
}

fn networks_of(r: &dyn KvRead, ctr_id: &str) -> Result<BTreeMap<String, PerNetworkOptions>> {
    let prefix = link(ctr_id, "");
    r.scan(Table::Networks, &prefix)?
        .into_iter()
        .map(|(key, bytes)| {
            let options = decode(Table::Networks, &key, &bytes)?;
            Ok((key[prefix.len()..].to_owned(), options))
        })
        .collect()
}

fn attachment(r: &dyn KvRead, ctr_id: &str, network: &str) -> Result<PerNetworkOptions> {
    get(r, Table::Networks, &link(ctr_id, network))?.ok_or_else(|| StateError::NotConnected {
        container: ctr_id.to_owned(),
        network: network.to_owned(),
    })
}

impl<B: Backend> NetworkAttachments for Store<B> {
    fn get_networks(&self, ctr_id: &str) -> Result<BTreeMap<String, PerNetworkOptions>> {
        self.read(|r, ns| {
            entry_of(r, ns, ctr_id, ObjectKind::Container)?;
            networks_of(r, ctr_id)
        })
    }

    fn get_network_aliases(&self, ctr_id: &str, network: &str) -> Result<Vec<String>> {
        self.read(|r, ns| {
            non_empty("network name", network)?;
            entry_of(r, ns, ctr_id, ObjectKind::Container)?;
            Ok(attachment(r, ctr_id, network)?
                .aliases
                .into_iter()
                .map(String::from)
                .collect())
        })
    }

    fn get_all_network_aliases(&self, ctr_id: &str) -> Result<BTreeMap<String, Vec<String>>> {
        self.read(|r, ns| {
            entry_of(r, ns, ctr_id, ObjectKind::Container)?;
            Ok(networks_of(r, ctr_id)?
                .into_iter()
                .map(|(network, options)| (network, options.aliases.into_iter().map(String::from).collect()))
                .collect())
        })
    }

    fn network_connect(&self, ctr_id: &str, network: &str, options: &PerNetworkOptions) -> Result<()> {
        self.write(|w, ns| {
            non_empty("network name", network)?;
            entry_of(w, ns, ctr_id, ObjectKind::Container)?;
            let key = link(ctr_id, network);
            if w.get(Table::Networks, &key)?.is_some() {
                return Err(StateError::AlreadyConnected {
                    container: ctr_id.to_owned(),
                    network: network.to_owned(),
                });
            }
            put(w, Table::Networks, &key, options)
        })
    }

    fn network_disconnect(&self, ctr_id: &str, network: &str) -> Result<()> {
        self.write(|w, ns| {
            non_empty("network name", network)?;
            entry_of(w, ns, ctr_id, ObjectKind::Container)?;
            attachment(w, ctr_id, network)?;
            w.delete(Table::Networks, &link(ctr_id, network))
        })
    }
}
