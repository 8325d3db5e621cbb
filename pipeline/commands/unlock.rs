//! `reestr unlock`: breaks the lease a dead run left on an object-store
//! warehouse. A local lock needs no breaking: it goes with its process.

use crate::Error;
use crate::cli::UnlockArgs;
use crate::nightly::lock::break_lock;
use crate::warehouse::Warehouse;

pub async fn run(args: UnlockArgs) -> Result<(), Error> {
    let warehouse = Warehouse::open_existing(&args.warehouse)?;
    match break_lock(warehouse.location()).await? {
        Some(broken) => println!("Broke {broken} on {}.", warehouse.name()),
        None => println!("The warehouse {} is not locked.", warehouse.name()),
    }
    Ok(())
}
