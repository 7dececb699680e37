//! The store's interface: libpod's State, cut into narrow traits.
//!
//! Every call is one atomic transaction. Calls taking a full ID of a
//! container or pod refuse objects outside the namespace set with
//! [`StateControl::set_namespace`] (`NamespaceMismatch`); lookups by name or
//! ID prefix simply do not see them (`NoSuch*`).

use std::collections::BTreeMap;

use corral_define::{ContainerConfig, DbConfig, ExecSession, PerNetworkOptions, PodConfig, VolumeConfig};

use crate::error::Result;
use crate::record::{ContainerRecord, PodRecord, VolumeRecord};

/// Opening, closing and configuring the store itself.
pub trait StateControl: Send + Sync {
    /// Releases the database; every later call fails with `DbClosed`.
    fn close(&self) -> Result<()>;

    /// After a reboot: resets every container's volatile state
    /// ([`corral_define::ContainerState::reset_after_reboot`]), forgets all exec
    /// sessions, clears pods' cgroup paths and zeroes volumes' mount counts.
    fn refresh(&self) -> Result<()>;

    /// The paths recorded when the database was created, if any were.
    fn get_db_config(&self) -> Result<Option<DbConfig>>;

    /// Records `config` if the database has none yet, otherwise checks it
    /// against the recorded one (`DbConfigMismatch` names the first differing
    /// field). Empty fields of `config` are not compared.
    fn validate_db_config(&self, config: &DbConfig) -> Result<()>;

    /// Restricts every later call to objects of libpod namespace `namespace`;
    /// the empty string lifts the restriction.
    fn set_namespace(&self, namespace: &str) -> Result<()>;

    /// The namespace set, empty for all.
    fn namespace(&self) -> String;

    /// The name of the container or pod with full ID `id`.
    fn get_name(&self, id: &str) -> Result<String>;

    /// Verifies the store's invariants (indexes point at existing objects,
    /// pod membership and dependencies are symmetric, the exec registry
    /// matches, nothing is orphaned) and lists every violation found.
    fn check_consistency(&self) -> Result<Vec<String>>;
}

/// Containers: configs, states, names and dependencies.
pub trait ContainerStore: Send + Sync {
    /// The container with full ID `id`.
    fn container(&self, id: &str) -> Result<ContainerRecord>;
    /// Resolves a full ID, an exact name or a unique ID prefix, in that order.
    fn lookup_container_id(&self, id_or_name: &str) -> Result<String>;
    /// [`ContainerStore::lookup_container_id`], then the record.
    fn lookup_container(&self, id_or_name: &str) -> Result<ContainerRecord>;
    /// True when a container with full ID `id` exists in the namespace set.
    fn has_container(&self, id: &str) -> Result<bool>;
    /// Adds a container that is not in a pod. Its name and ID must be free
    /// among containers and pods, its dependencies must exist outside any pod
    /// in its namespace, and its named volumes must exist.
    fn add_container(&self, ctr: &ContainerRecord) -> Result<()>;
    /// Removes a container that is not in a pod, has no dependents and no exec sessions.
    fn remove_container(&self, id: &str) -> Result<()>;
    /// Re-reads `ctr.state` from the store.
    fn update_container(&self, ctr: &mut ContainerRecord) -> Result<()>;
    /// Writes `ctr.state` to the store; the config is left alone.
    fn save_container(&self, ctr: &ContainerRecord) -> Result<()>;
    /// IDs of the containers that depend on container `id`.
    fn container_in_use(&self, id: &str) -> Result<Vec<String>>;
    /// Every container in the namespace set, in no particular order (the
    /// backend's own: about creation order for SQLite, ID order for sled and
    /// memory). Without `load_state` the records carry a default state
    /// (cheaper).
    fn all_containers(&self, load_state: bool) -> Result<Vec<ContainerRecord>>;
    /// The config of the container with full ID `id`.
    fn get_container_config(&self, id: &str) -> Result<ContainerConfig>;
    /// Replaces a container's config. Fields the store indexes (ID, name,
    /// pod, namespace, dependencies, named volumes) must not change.
    fn rewrite_container_config(&self, config: &ContainerConfig) -> Result<()>;
    /// Like [`ContainerStore::rewrite_container_config`], and renames the
    /// container when `new_name` is not empty: `old_name` must be its
    /// current name, `new_name` must be free and equal to `config.name`.
    fn safe_rewrite_container_config(&self, old_name: &str, new_name: &str, config: &ContainerConfig) -> Result<()>;
}

/// Pods and their membership.
pub trait PodStore: Send + Sync {
    /// The pod with full ID `id`.
    fn pod(&self, id: &str) -> Result<PodRecord>;
    /// Resolves a full ID, an exact name or a unique ID prefix, then the record.
    fn lookup_pod(&self, id_or_name: &str) -> Result<PodRecord>;
    fn has_pod(&self, id: &str) -> Result<bool>;
    fn pod_has_container(&self, pod_id: &str, ctr_id: &str) -> Result<bool>;
    /// IDs of the pod's containers, ordered.
    fn pod_containers_by_id(&self, pod_id: &str) -> Result<Vec<String>>;
    fn pod_containers(&self, pod_id: &str) -> Result<Vec<ContainerRecord>>;
    /// Adds a pod; its name and ID must be free among containers and pods.
    fn add_pod(&self, pod: &PodRecord) -> Result<()>;
    /// Removes an empty pod.
    fn remove_pod(&self, id: &str) -> Result<()>;
    /// Removes every container of the pod at once, refusing (and changing
    /// nothing) when a container outside the pod depends on one inside or a
    /// member has exec sessions.
    fn remove_pod_containers(&self, pod_id: &str) -> Result<()>;
    /// Adds a container to the store as a member of `pod_id`
    /// (`ctr.config.pod` must name it); its dependencies must be members too.
    fn add_container_to_pod(&self, pod_id: &str, ctr: &ContainerRecord) -> Result<()>;
    /// Removes a member of the pod from the store, under the rules of
    /// [`ContainerStore::remove_container`].
    fn remove_container_from_pod(&self, pod_id: &str, ctr_id: &str) -> Result<()>;
    /// Re-reads `pod.state` from the store.
    fn update_pod(&self, pod: &mut PodRecord) -> Result<()>;
    /// Writes `pod.state` to the store.
    fn save_pod(&self, pod: &PodRecord) -> Result<()>;
    /// Every pod in the namespace set, ordered by ID.
    fn all_pods(&self) -> Result<Vec<PodRecord>>;
    /// Replaces a pod's config; ID, name and namespace must not change.
    fn rewrite_pod_config(&self, config: &PodConfig) -> Result<()>;
}

/// Named volumes. Volumes have a name space of their own and no libpod namespace.
pub trait VolumeStore: Send + Sync {
    /// The volume named exactly `name`.
    fn volume(&self, name: &str) -> Result<VolumeRecord>;
    /// The volume named `name`, or else the only one whose name starts with it.
    fn lookup_volume(&self, name: &str) -> Result<VolumeRecord>;
    fn has_volume(&self, name: &str) -> Result<bool>;
    /// IDs of the containers that mount the volume.
    fn volume_in_use(&self, name: &str) -> Result<Vec<String>>;
    fn add_volume(&self, volume: &VolumeRecord) -> Result<()>;
    /// Removes a volume no container uses.
    fn remove_volume(&self, name: &str) -> Result<()>;
    /// Re-reads `volume.state` from the store.
    fn update_volume(&self, volume: &mut VolumeRecord) -> Result<()>;
    /// Writes `volume.state` to the store.
    fn save_volume(&self, volume: &VolumeRecord) -> Result<()>;
    /// Every volume, ordered by name.
    fn all_volumes(&self) -> Result<Vec<VolumeRecord>>;
    /// Replaces a volume's config; the name must not change.
    fn rewrite_volume_config(&self, config: &VolumeConfig) -> Result<()>;
}

/// The registry of exec session IDs. The sessions themselves live in their
/// container's state; this index maps session ID -> container ID, as libpod's does.
pub trait ExecSessionStore: Send + Sync {
    /// The ID of the container running exec session `id`.
    fn get_exec_session(&self, id: &str) -> Result<String>;
    /// Registers `session` (whose `container_id` must be `ctr_id`).
    fn add_exec_session(&self, ctr_id: &str, session: &ExecSession) -> Result<()>;
    fn remove_exec_session(&self, id: &str) -> Result<()>;
    /// IDs of the container's registered sessions, ordered.
    fn get_container_exec_sessions(&self, ctr_id: &str) -> Result<Vec<String>>;
    fn remove_container_exec_sessions(&self, ctr_id: &str) -> Result<()>;
}

/// The networks a container is attached to now, with their options and aliases.
/// A container starts with the networks of its config.
pub trait NetworkAttachments: Send + Sync {
    fn get_networks(&self, ctr_id: &str) -> Result<BTreeMap<String, PerNetworkOptions>>;
    /// Aliases of the container in one network it is connected to.
    fn get_network_aliases(&self, ctr_id: &str, network: &str) -> Result<Vec<String>>;
    /// Aliases of the container in every network it is connected to.
    fn get_all_network_aliases(&self, ctr_id: &str) -> Result<BTreeMap<String, Vec<String>>>;
    fn network_connect(&self, ctr_id: &str, network: &str, options: &PerNetworkOptions) -> Result<()>;
    fn network_disconnect(&self, ctr_id: &str, network: &str) -> Result<()>;
}

/// The whole store, for callers that want all of it (`Box<dyn State>`).
pub trait State:
    StateControl + ContainerStore + PodStore + VolumeStore + ExecSessionStore + NetworkAttachments
{
}

impl<T> State for T where
    T: StateControl + ContainerStore + PodStore + VolumeStore + ExecSessionStore + NetworkAttachments
{
}
