//! What the store hands out and takes in: records (config + state), not live objects.

use corral_define::{ContainerConfig, ContainerState, PodConfig, PodState, VolumeConfig, VolumeState};

/// A container as the store keeps it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerRecord {
    pub config: ContainerConfig,
    pub state: ContainerState,
}

impl ContainerRecord {
    pub fn id(&self) -> &str {
        &self.config.id
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }
}

/// A pod as the store keeps it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodRecord {
    pub config: PodConfig,
    pub state: PodState,
}

impl PodRecord {
    pub fn id(&self) -> &str {
        &self.config.id
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }
}

/// A named volume as the store keeps it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VolumeRecord {
    pub config: VolumeConfig,
    pub state: VolumeState,
}

impl VolumeRecord {
    pub fn name(&self) -> &str {
        &self.config.name
    }
}
