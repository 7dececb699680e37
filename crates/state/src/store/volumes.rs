//! Named volumes.

use corral_define::{VolumeConfig, VolumeState};

use super::{Store, check_name, decode, get, get_required, linked, non_empty, put};
use crate::error::{ObjectKind, Result, StateError};
use crate::kv::{Backend, KvRead, Table};
use crate::record::VolumeRecord;
use crate::traits::VolumeStore;

fn read_volume(r: &dyn KvRead, name: &str) -> Result<VolumeRecord> {
    non_empty("volume name", name)?;
    let config: VolumeConfig =
        get(r, Table::VolConfig, name)?.ok_or_else(|| StateError::NoSuchVolume(name.to_owned()))?;
    Ok(VolumeRecord {
        config,
        state: get_required(r, Table::VolState, name)?,
    })
}

fn require_volume(r: &dyn KvRead, name: &str) -> Result<()> {
    non_empty("volume name", name)?;
    if r.get(Table::VolConfig, name)?.is_none() {
        return Err(StateError::NoSuchVolume(name.to_owned()));
    }
    Ok(())
}

impl<B: Backend> VolumeStore for Store<B> {
    fn volume(&self, name: &str) -> Result<VolumeRecord> {
        self.read(|r, _| read_volume(r, name))
    }

    fn lookup_volume(&self, name: &str) -> Result<VolumeRecord> {
        self.read(|r, _| {
            non_empty("volume name", name)?;
            if r.get(Table::VolConfig, name)?.is_some() {
                return read_volume(r, name);
            }
            let mut matches = r.scan(Table::VolConfig, name)?;
            match matches.len() {
                0 => Err(StateError::NoSuchVolume(name.to_owned())),
                1 => {
                    let (full, bytes) = matches.swap_remove(0);
                    Ok(VolumeRecord {
                        config: decode(Table::VolConfig, &full, &bytes)?,
                        state: get_required(r, Table::VolState, &full)?,
                    })
                }
                _ => Err(StateError::Ambiguous {
                    object: ObjectKind::Volume,
                    given: name.to_owned(),
                }),
            }
        })
    }

    fn has_volume(&self, name: &str) -> Result<bool> {
        self.read(|r, _| {
            non_empty("volume name", name)?;
            Ok(r.get(Table::VolConfig, name)?.is_some())
        })
    }

    fn volume_in_use(&self, name: &str) -> Result<Vec<String>> {
        self.read(|r, _| {
            require_volume(r, name)?;
            linked(r, Table::VolUsers, name)
        })
    }

    fn add_volume(&self, volume: &VolumeRecord) -> Result<()> {
        self.write(|w, _| {
            let name = volume.name();
            check_name(name)?;
            if w.get(Table::VolConfig, name)?.is_some() {
                return Err(StateError::VolumeExists(name.to_owned()));
            }
            put(w, Table::VolConfig, name, &volume.config)?;
            put(w, Table::VolState, name, &volume.state)
        })
    }

    fn remove_volume(&self, name: &str) -> Result<()> {
        self.write(|w, _| {
            require_volume(w, name)?;
            let users = linked(w, Table::VolUsers, name)?;
            if !users.is_empty() {
                return Err(StateError::VolumeInUse {
                    name: name.to_owned(),
                    users,
                });
            }
            w.delete(Table::VolConfig, name)?;
            w.delete(Table::VolState, name)
        })
    }

    fn update_volume(&self, volume: &mut VolumeRecord) -> Result<()> {
        let name = volume.config.name.clone();
        volume.state = self.read(|r, _| {
            require_volume(r, &name)?;
            get_required::<VolumeState>(r, Table::VolState, &name)
        })?;
        Ok(())
    }

    fn save_volume(&self, volume: &VolumeRecord) -> Result<()> {
        self.write(|w, _| {
            require_volume(w, volume.name())?;
            put(w, Table::VolState, volume.name(), &volume.state)
        })
    }

    fn all_volumes(&self) -> Result<Vec<VolumeRecord>> {
        self.read(|r, _| {
            let configs = r.scan(Table::VolConfig, "")?;
            let states = r.scan(Table::VolState, "")?;
            if configs.len() != states.len() {
                return Err(StateError::Internal(format!(
                    "inconsistent database: {} volume configs but {} volume states",
                    configs.len(),
                    states.len()
                )));
            }
            configs
                .into_iter()
                .zip(states)
                .map(|((name, config), (state_name, state))| {
                    if name != state_name {
                        return Err(StateError::Internal(format!(
                            "inconsistent database: volume {name} has no state"
                        )));
                    }
                    Ok(VolumeRecord {
                        config: decode(Table::VolConfig, &name, &config)?,
                        state: decode(Table::VolState, &name, &state)?,
                    })
                })
                .collect()
        })
    }

    fn rewrite_volume_config(&self, config: &VolumeConfig) -> Result<()> {
        self.write(|w, _| {
            require_volume(w, &config.name)?;
            put(w, Table::VolConfig, &config.name, config)
        })
    }
}
