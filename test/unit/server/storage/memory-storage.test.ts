import { createMemoryStorage } from '../../../../server/storage/memory-storage';
import { describeRoomStorageContract } from '../../../integration/storage-contract';

describeRoomStorageContract('memory storage', async () => ({ storage: createMemoryStorage() }));
